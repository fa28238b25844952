"""CRM push: a real loopback CRM that fails, then succeeds; an outage; a timeout. Every lead arrives exactly once."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from pydantic import SecretStr
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.db import transaction
from bot.errors import ConfigError
from bot.leads import outbox, service
from bot.leads.models import LeadOutbox
from bot.leads.worker import OutboxWorker, _retry_after_s, sign
from bot.settings import CRMSettings
from tests.support.servers import free_port, serve

from .conftest import record
from .fake_crm import SECRET, FakeCRM


def _worker(sessions: sessionmaker[Session], url: str, **overrides: object) -> OutboxWorker:
    options: dict[str, object] = {
        "timeout_s": 2.0, "initial_backoff_s": 0.01, "max_backoff_s": 0.05, "poll_interval_s": 0.02,
    }  # fmt: skip
    options.update(overrides)
    return OutboxWorker(sessions=sessions, webhook_url=url, secret=SECRET, **options)  # type: ignore[arg-type]


def _record_some(sessions: sessionmaker[Session], prefix: str) -> None:
    with transaction(sessions) as session:
        record(session, client_key=f"{prefix}-1", product_codes=["WM001", "WM002"])
        record(session, client_key=f"{prefix}-2", type="advisor_request", product_codes=[])
        (lead,) = record(session, client_key=f"{prefix}-3")
        record(session, client_key=f"{prefix}-3", evidence="还是想买WM001")  # an update of the same lead
        service.update_status(session, lead_id=lead.id, status="contacted")


def _outbox(sessions: sessionmaker[Session]) -> list[LeadOutbox]:
    with sessions() as session:
        return list(session.scalars(select(LeadOutbox).order_by(LeadOutbox.id)))


async def _eventually(check: Callable[[], bool], timeout_s: float = 20.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout_s
    while not await asyncio.to_thread(check):
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.02)


def _all_delivered(sessions: sessionmaker[Session]) -> Callable[[], bool]:
    def check() -> bool:
        with sessions() as session:
            return outbox.pending_count(session) == 0

    return check


def _assert_each_event_arrived_once_in_order(sessions: sessionmaker[Session], crm: FakeCRM) -> None:
    rows = _outbox(sessions)
    acknowledged = crm.acknowledged()
    assert sorted(acknowledged) == sorted(r.event_id for r in rows)  # every event, none twice
    assert {e["lead"]["id"] for e in crm.events.values()} == {r.lead_id for r in rows}  # every lead
    for lead_id in {r.lead_id for r in rows}:
        sent = [e for e in acknowledged if crm.events[e]["lead"]["id"] == lead_id]
        assert sent == [r.event_id for r in rows if r.lead_id == lead_id]  # a lead's events in order
    assert all(r.delivered_at is not None and r.attempts >= 1 for r in rows)
    assert all(d.status != 401 for d in crm.deliveries)  # every body was correctly signed


async def test_a_crm_that_fails_then_succeeds_gets_every_lead_exactly_once(sessions: sessionmaker[Session]) -> None:
    crm = FakeCRM(failures=6)
    _record_some(sessions, "before")
    with serve(crm.app()) as base_url:
        worker = _worker(sessions, f"{base_url}/crm/leads")
        await worker.start()
        try:
            await asyncio.to_thread(_record_some, sessions, "during")
            await _eventually(_all_delivered(sessions))
        finally:
            await worker.aclose()
    assert not worker.running
    _assert_each_event_arrived_once_in_order(sessions, crm)
    assert len(crm.deliveries) == len(_outbox(sessions)) + 6
    assert any(r.attempts > 1 for r in _outbox(sessions))
    first = json.loads(crm.deliveries[0].body)
    assert first["event"] == "lead.created" and first["lead"]["evidence"] == "我想买稳健理财WM001，大概50万"


async def test_a_crm_outage_loses_no_lead(sessions: sessionmaker[Session]) -> None:
    port = free_port()  # nothing listens here yet: connections are refused
    _record_some(sessions, "c")
    worker = _worker(sessions, f"http://127.0.0.1:{port}/crm/leads")
    await worker.start()
    try:

        def tried_and_failed() -> bool:
            rows = _outbox(sessions)
            return all(r.delivered_at is None for r in rows) and any((r.attempts or 0) >= 3 for r in rows)

        await _eventually(tried_and_failed)
        assert any("ConnectError" in (r.last_error or "") for r in _outbox(sessions))
        crm = FakeCRM()
        with serve(crm.app(), port=port):
            await _eventually(_all_delivered(sessions))
    finally:
        await worker.aclose()
    _assert_each_event_arrived_once_in_order(sessions, crm)


async def test_a_timed_out_push_is_resent_with_the_same_key_and_body(sessions: sessionmaker[Session]) -> None:
    crm = FakeCRM(slow_first_s=1.0)
    with transaction(sessions) as session:
        record(session)
    with serve(crm.app()) as base_url:
        worker = _worker(sessions, f"{base_url}/crm/leads", timeout_s=0.2)
        await worker.start()
        try:
            await _eventually(_all_delivered(sessions))
            await asyncio.sleep(1.0)  # let the slow first request finish on the server side
        finally:
            await worker.aclose()
    (row,) = _outbox(sessions)
    assert row.attempts >= 2 and "Timeout" in (row.last_error or "")
    assert {d.event_id for d in crm.deliveries} == {row.event_id}
    assert {d.body for d in crm.deliveries} == {row.payload.encode()}
    assert list(crm.events) == [row.event_id]  # the CRM dedups by X-Idempotency-Key


async def test_retry_after_is_honoured_and_the_pass_stops_at_the_first_failure(
    sessions: sessionmaker[Session],
) -> None:
    _record_some(sessions, "c")
    now = datetime.now(UTC) + timedelta(seconds=1)  # fixed: everything recorded is due
    requests: list[httpx.Request] = []

    def busy(request: httpx.Request) -> httpx.Response:
        requests.append(request)
        return httpx.Response(503, headers={"Retry-After": "120"})

    worker = _worker(
        sessions, "https://crm.example/leads", transport=httpx.MockTransport(busy), clock=lambda: now,
        max_backoff_s=300.0, rng=lambda: 0.0,
    )  # fmt: skip
    try:
        assert await worker.deliver_due() == 0
    finally:
        await worker.aclose()
    assert len(requests) == 1  # a failing CRM is not hammered with the rest of the batch
    (request,) = requests
    assert request.headers["x-signature"] == sign(SECRET, request.content)
    assert request.headers["content-type"] == "application/json; charset=utf-8"
    first, *rest = _outbox(sessions)
    assert request.headers["x-idempotency-key"] == first.event_id
    assert first.next_attempt_at == now + timedelta(seconds=120) and first.last_error == "HTTP 503: "
    assert all(r.attempts == 0 for r in rest)


def test_backoff_grows_exponentially_with_jitter_and_a_cap() -> None:
    def delay(attempts: int, rng: float) -> float:
        return outbox.backoff_delay(attempts, initial_s=2, cap_s=300, rng=lambda: rng)

    assert [delay(n, 1.0) for n in (1, 2, 3, 4)] == [2, 4, 8, 16]
    assert [delay(n, 0.0) for n in (1, 2, 3, 4)] == [1, 2, 4, 8]
    assert delay(20, 1.0) == 300 and delay(20, 0.0) == 150
    assert delay(10_000, 0.5) == 225  # no overflow, however long the outage


def test_retry_after_accepts_seconds_and_http_dates() -> None:
    now = datetime(2025, 5, 1, 12, tzinfo=UTC)
    assert _retry_after_s("30", now) == 30
    assert _retry_after_s("Thu, 01 May 2025 12:01:00 GMT", now) == 60
    assert _retry_after_s("soon", now) is None
    assert _retry_after_s(None, now) is None


async def test_construction_refuses_bad_config_and_no_url_means_disabled(sessions: sessionmaker[Session]) -> None:
    with pytest.raises(ConfigError, match="ADVISOR_LEADS__CRM__SECRET"):
        OutboxWorker.from_settings(CRMSettings(webhook_url="https://crm.example/leads"), sessions=sessions)
    with pytest.raises(ConfigError, match="webhook_url must be an http"):
        OutboxWorker(sessions=sessions, webhook_url="ftp://crm.example", secret="s")
    disabled = OutboxWorker.from_settings(CRMSettings(), sessions=sessions)
    await disabled.start()
    assert not disabled.enabled and not disabled.running
    assert await disabled.deliver_due() == 0
    await disabled.aclose()
    enabled = OutboxWorker.from_settings(
        CRMSettings(webhook_url="https://crm.example/leads", secret=SecretStr("s")), sessions=sessions
    )
    assert enabled.enabled
    await enabled.aclose()
