"""Privacy bar: through the real app and a real Rasa, no unmasked phone number and no credential reaches
any log line.

Every log record the app emits (root at DEBUG, uvicorn's access and error loggers included) goes
through the handler the app installs at start-up; we capture what it writes, plus Rasa's own log.
The same run checks that the channel's request id reaches the actions' log lines through Rasa.
"""

from __future__ import annotations

import json
import logging
import re
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from bot.actions import ACTION_SECRET_HEADER
from bot.observability.logging import install_logging
from tests.support.stack import E2E_ACTION_SECRET, E2E_API_KEY, E2E_RASA_TOKEN, Stack

pytestmark = pytest.mark.e2e
PHONES = ["13912345678", "8613800138000", "15011112222", "4155552671"]
# A Chinese mobile number (bare, +86, grouped) standing alone, or any E.164 number; letters around digits
# mean a hex id, not a phone (besides, the exact numbers we sent are checked separately).
UNMASKED = re.compile(r"(?<![0-9A-Za-z])(?:\+?86)?1[3-9]\d[ -]?\d{4}[ -]?\d{4}(?![0-9A-Za-z])|(?:\+|%2B)\d{10,15}")
LOGGERS = ("uvicorn", "uvicorn.error", "uvicorn.access", "httpx", "bot")


@pytest.fixture
def all_logs(stack: Stack) -> Iterator[None]:
    """Root (and uvicorn's loggers) at DEBUG through the app's own JSON handler, for this test only."""
    root = logging.getLogger()
    before = root.level, {name: logging.getLogger(name).level for name in LOGGERS}
    install_logging("DEBUG")  # what the app's lifespan does, at the most talkative level
    for name in LOGGERS:
        logging.getLogger(name).setLevel(logging.DEBUG)
    try:
        yield
    finally:
        install_logging(logging.getLevelName(before[0]))
        for name, level in before[1].items():
            logging.getLogger(name).setLevel(level)


def chat(stack: Stack, sender: str, text: str, request_id: str) -> list[dict[str, Any]]:
    response = httpx.post(
        f"{stack.app_url}/api/chat",
        json={"sender_id": sender, "message": text},
        headers={"x-request-id": request_id},
        timeout=30,
    )
    assert response.status_code == 200, response.text
    messages: list[dict[str, Any]] = response.json()["messages"]
    return messages


def test_no_unmasked_phone_number_in_any_log_line(
    stack: Stack, all_logs: None, capsys: pytest.CaptureFixture[str]
) -> None:
    rasa_log = stack.settings.data_dir / "rasa.log"  # read whole: every e2e conversation of this session so far
    sender = f"privacy-{uuid.uuid4().hex[:8]}"
    request_id = f"rid-{uuid.uuid4().hex}"
    chat(stack, sender, "你好，我姓王，手机13912345678", request_id)
    chat(stack, sender, "请找个顾问打给我 +8613800138000，或者 150-1111-2222", f"{request_id}-2")
    chat(stack, sender, "明天下午3点再打给我吧，号码 +1 415 555 2671", f"{request_id}-3")
    chat(stack, sender, "货币基金怎么赎回，多久到账？我手机尾号是13912345678", f"{request_id}-4")
    # a phone number in query strings (uvicorn's access line) and an action call's tracker metadata
    httpx.get(f"{stack.app_url}/api/leads", params={"client_key": "+8613800138000"}, headers={"X-API-Key": E2E_API_KEY})
    tracker = {
        "sender_id": "web:x",
        "latest_message": {"text": "13912345678", "metadata": {"request_id": request_id, "phone": "+8613800138000"}},
        "events": [],
    }
    httpx.post(
        f"{stack.app_url}/webhook",
        json={"next_action": "no_such_action", "tracker": tracker},
        headers={ACTION_SECRET_HEADER: E2E_ACTION_SECRET},
        timeout=10,
    )
    httpx.get(f"{stack.app_url}/healthz", timeout=10)  # the app asks Rasa's /status with its token

    app_lines = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    records = []
    for line in app_lines:
        if line.startswith("{"):
            records.append(json.loads(line))
    assert len(records) >= 10, f"expected the app's JSON log lines, got {app_lines[:5]}"
    assert {"uvicorn.access", "bot.actions.views"} <= {str(r["logger"]) for r in records}
    rasa_lines = rasa_log.read_text(encoding="utf-8", errors="replace").splitlines() if rasa_log.exists() else []

    for line in app_lines + rasa_lines:
        assert not UNMASKED.search(line), line
        assert not any(phone in line.replace(" ", "").replace("-", "") for phone in PHONES), line
        # nor a credential: Rasa's API token (httpx logs the /status?token= URL) or the action secret
        assert E2E_RASA_TOKEN not in line and E2E_ACTION_SECRET not in line, line
    assert any("/status?token=***" in str(r["msg"]) for r in records), "the health check's request is logged, redacted"

    # the request id given by the channel reached the actions through Rasa's metadata
    seen = {(str(r["msg"]), r["request_id"]) for r in records if str(r["logger"]).startswith("bot.actions")}
    assert ("action action_session_start", request_id) in seen, seen
    assert any(msg.startswith("action action_") and rid == f"{request_id}-4" for msg, rid in seen), seen
