"""Prometheus metrics: turns and latency per channel, guard blocks by rule, call statuses, leads by type."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI, Request
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy.orm import Session, sessionmaker

from bot.compliance.outgoing import OutgoingGuard
from bot.core.audit import JsonlAuditSink
from bot.db import make_engine, session_factory
from bot.dialogue.client import RasaClient
from bot.errors import DialogueUnavailable
from bot.observability.metrics import MeteredAuditSink, MeteredGateway, Metrics
from tests.console.support import add_lead, build_schema
from tests.support.servers import free_port, serve


def _fake_rasa() -> FastAPI:
    """Rasa's REST channel: a forbidden promise for messages containing "block", a greeting otherwise."""
    app = FastAPI()

    @app.post("/webhooks/rest/webhook")
    async def rest(request: Request) -> list[dict[str, Any]]:
        body = await request.json()
        text = "这款理财保本保收益，稳赚不赔。" if "block" in body["message"] else "您好！"
        return [{"recipient_id": body["sender"], "text": text}]

    return app


@pytest.fixture
def rasa_url() -> Iterator[str]:
    with serve(_fake_rasa()) as url:
        yield url


def _gateway(client: RasaClient, metrics: Metrics, audit: JsonlAuditSink | None = None) -> MeteredGateway:
    guard = OutgoingGuard(products=list, audit=MeteredAuditSink(audit, metrics))
    return MeteredGateway(client, guard=guard, default_language="zh", metrics=metrics)


def _value(metrics: Metrics, name: str, **labels: str) -> float:
    return metrics.registry.get_sample_value(name, labels) or 0.0


async def test_turns_latency_and_guard_blocks_per_channel(rasa_url: str, tmp_path: Path) -> None:
    metrics = Metrics()
    audit = JsonlAuditSink(tmp_path / "audit.jsonl")
    client = RasaClient(rasa_url, token="t", timeout_s=5)
    gateway = _gateway(client, metrics, audit)
    try:
        await gateway.handle(channel="web", sender_id="u1", text="你好")
        await gateway.handle(channel="web", sender_id="u1", text="block 这个")
        reply = await gateway.handle(channel="wecom", sender_id="u2", text="你好")
    finally:
        await client.aclose()
    assert reply.messages[0].text == "您好！"
    assert _value(metrics, "advisor_turns_total", channel="web", outcome="ok") == 2
    assert _value(metrics, "advisor_turns_total", channel="wecom", outcome="ok") == 1
    assert _value(metrics, "advisor_turn_latency_seconds_count", channel="web") == 2
    assert _value(metrics, "advisor_turn_latency_seconds_bucket", channel="web", le="+Inf") == 2
    blocked = {
        s.labels["rule"] for s in next(iter(metrics.guard_blocks.collect())).samples if s.name.endswith("_total")
    }
    assert blocked and all(
        _value(metrics, "advisor_guard_blocks_total", rule=r, source="gateway.web") >= 1 for r in blocked
    )
    written = [json.loads(line)["rule"] for line in (tmp_path / "audit.jsonl").read_text(encoding="utf-8").splitlines()]
    assert sorted(written) == sorted(blocked)  # counting never replaces the audit trail


async def test_a_failed_turn_is_counted_as_an_error() -> None:
    metrics = Metrics()
    client = RasaClient(f"http://127.0.0.1:{free_port()}", token="t", timeout_s=5)
    try:
        with pytest.raises(DialogueUnavailable):
            await _gateway(client, metrics).handle(channel="voice", sender_id="u3", text="喂")
    finally:
        await client.aclose()
    assert _value(metrics, "advisor_turns_total", channel="voice", outcome="error") == 1
    assert _value(metrics, "advisor_turn_latency_seconds_count", channel="voice") == 1


def test_call_statuses_and_registries_are_per_instance() -> None:
    first, second = Metrics(), Metrics()
    for status in ("completed", "no-answer", "Completed", ""):
        first.record_call_status(status)
    assert _value(first, "advisor_calls_total", status="completed") == 2
    assert _value(first, "advisor_calls_total", status="unknown") == 1
    assert _value(second, "advisor_calls_total", status="completed") == 0


@pytest.fixture
def sessions(tmp_path: Path) -> Iterator[sessionmaker[Session]]:
    url = f"sqlite:///{tmp_path / 'advisor.db'}"
    build_schema(url)
    engine = make_engine(url)
    yield session_factory(engine)
    engine.dispose()


def test_leads_by_type_and_status_are_read_at_scrape_time(sessions: sessionmaker[Session]) -> None:
    metrics = Metrics(sessions=lambda: sessions)
    add_lead(sessions)
    add_lead(sessions, client_key="c-2")
    add_lead(sessions, client_key="c-3", type="complaint", product_codes=[])
    families = {f.name: f for f in text_string_to_metric_families(metrics.render().decode())}
    leads = {(s.labels["type"], s.labels["status"]): s.value for s in families["advisor_leads"].samples}
    assert leads == {("product_interest", "new"): 2, ("complaint", "new"): 1}
    assert {"advisor_turns", "advisor_turn_latency_seconds", "advisor_guard_blocks", "advisor_calls"} <= set(families)


def test_a_missing_database_does_not_break_the_scrape(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'empty.db'}")  # no tables
    metrics = Metrics(sessions=lambda: session_factory(engine))
    assert b"advisor_leads" in metrics.render()
    assert Metrics(sessions=lambda: None).render()
    engine.dispose()
