"""JSON log lines: masked, carrying the request id bound by the middleware or the action server."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from bot.actions import ACTION_SECRET_HEADER
from bot.actions import views as action_views
from bot.observability.logging import (
    JsonFormatter,
    bind_request_id,
    clean_request_id,
    install_logging,
    request_id_var,
)


@pytest.fixture
def lines() -> Iterator[io.StringIO]:
    """Our handler on the root logger at DEBUG, writing into a buffer; removed afterwards."""
    root = logging.getLogger()
    level = root.level
    buffer = io.StringIO()
    handler = install_logging("DEBUG", stream=buffer)
    try:
        yield buffer
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


def _records(buffer: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in buffer.getvalue().splitlines()]


def test_every_line_is_json_with_masked_message_extras_and_traceback(lines: io.StringIO) -> None:
    log = logging.getLogger("bot.test")
    token = bind_request_id("req-1")
    try:
        log.info("callback %s", "+8613800138000", extra={"client_name": "张三", "phone": "13912345678"})
        try:
            raise ValueError("bad number 13912345678")
        except ValueError:
            log.exception("failed for 姓名：李四")
    finally:
        request_id_var.reset(token)
    log.warning("no request")
    first, second, third = _records(lines)
    assert first["msg"] == "callback +*********8000" and first["request_id"] == "req-1"
    assert first["client_name"] == "张*" and first["phone"] == "*******5678"
    assert first["level"] == "INFO" and first["logger"] == "bot.test"
    assert second["msg"] == "failed for 姓名：李*" and "13912345678" not in str(second["exc"])
    assert "ValueError" in str(second["exc"])
    assert third["request_id"] is None
    assert "13912345678" not in lines.getvalue() and "8613800138000" not in lines.getvalue()


def test_bad_format_args_do_not_lose_the_line() -> None:
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "%d items for %s", ("many",), None)
    assert "many" in json.loads(JsonFormatter().format(record))["msg"]


def test_install_is_idempotent_and_routes_uvicorn_through_the_root(lines: io.StringIO) -> None:
    ours = [h for h in logging.getLogger().handlers if isinstance(h.formatter, JsonFormatter)]
    assert len(ours) == 1
    access = logging.getLogger("uvicorn.access")
    assert access.propagate and not access.handlers
    access.warning('127.0.0.1 - "GET /api/leads?client_key=%2B8613800138000 HTTP/1.1" 200')
    assert "8613800138000" not in lines.getvalue() and "uvicorn.access" in lines.getvalue()


def test_the_middleware_id_reaches_the_log_and_the_action_server_rebinds_the_turns_id(lines: io.StringIO) -> None:
    seen: list[str | None] = []

    class Executor:
        async def run(self, action_call: dict[str, object]) -> None:
            seen.append(request_id_var.get())
            logging.getLogger("bot.actions.test").info("running for +8613800138000")

    app = FastAPI()
    app.state.action_executor = Executor()
    app.state.action_secret = b"log-test"  # what create_app sets from settings.rasa.action_secret
    app.include_router(action_views.router)

    @app.middleware("http")
    async def bind(request, call_next):  # type: ignore[no-untyped-def]  # the same binding bot.app does
        token = bind_request_id(request.headers.get("x-request-id"))
        try:
            return await call_next(request)
        finally:
            request_id_var.reset(token)

    tracker = {
        "sender_id": "web:u1",
        "latest_message": {"text": "hi", "metadata": {"request_id": "turn-42", "channel": "web"}},
        "events": [],
    }
    with TestClient(app, headers={ACTION_SECRET_HEADER: "log-test"}) as client:
        client.post("/webhook", json={"next_action": "x", "tracker": tracker}, headers={"x-request-id": "rasa-call"})
        events_only = {
            **tracker,
            "latest_message": {},
            "events": [{"event": "user", "metadata": {"request_id": "t-7"}}],
        }
        client.post("/webhook", json={"next_action": "x", "tracker": events_only}, headers={"x-request-id": "rasa-2"})
        client.post(
            "/webhook", json={"next_action": "x", "tracker": {"events": "junk"}}, headers={"x-request-id": "r-3"}
        )
        # action_session_start runs before the user's message is on the tracker: Rasa passes its metadata in a slot
        starting = {"latest_message": {}, "events": [], "slots": {"session_started_metadata": {"request_id": "s-1"}}}
        client.post("/webhook", json={"next_action": "action_session_start", "tracker": starting})
    assert seen == ["turn-42", "t-7", "r-3", "s-1"]
    records = [r for r in _records(lines) if r["logger"] == "bot.actions.test"]
    assert [r["request_id"] for r in records] == ["turn-42", "t-7", "r-3", "s-1"]
    assert all("8613800138000" not in str(r["msg"]) for r in records)


def test_only_plausible_request_ids_are_kept() -> None:
    assert clean_request_id("web-1:abc.DEF_2") == "web-1:abc.DEF_2"
    for bad in (None, "", "a" * 65, "x\ny", "id with space", '{"json": 1}', "中文"):
        assert clean_request_id(bad) is None
