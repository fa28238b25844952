"""The dialer against an in-process provider and a virtual clock: limits, retries, crash and restart."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.campaigns.attempts import acquire_lease
from bot.campaigns.dialer import RunSummary, run_campaign
from bot.campaigns.models import Campaign, CampaignAttempt, CampaignClient
from bot.campaigns.provider import CallRequest, PlacedCall
from bot.contacts.service import opt_out
from bot.db import transaction
from bot.errors import CallRefusedError, InputError, ProviderUnavailableError
from bot.settings import Settings
from tests.campaigns.conftest import T0
from tests.campaigns.fakes import Crash, FakeClock, FakeProvider, client, make_campaign


@pytest.fixture
def dial_settings(settings: Settings) -> Settings:
    telephony = settings.telephony.model_copy(update={"public_base_url": "https://bank.example/"})
    campaigns = settings.campaigns.model_copy(update={"control_share": 0.0})
    return settings.model_copy(update={"telephony": telephony, "campaigns": campaigns})


def _run(sessions: sessionmaker[Session], provider: FakeProvider, settings: Settings, campaign_id: int,
         **kwargs: Any) -> RunSummary:  # fmt: skip
    return asyncio.run(
        run_campaign(sessions=sessions, provider=provider, settings=settings, campaign_id=campaign_id,
                     clock=provider.clock, progress=False, **kwargs)
    )  # fmt: skip


def _clients(sessions: sessionmaker[Session], campaign_id: int) -> dict[str, CampaignClient]:
    with sessions() as session:
        rows = session.scalars(select(CampaignClient).where(CampaignClient.campaign_id == campaign_id)).all()
    return {r.client_id: r for r in rows}


def _attempts(sessions: sessionmaker[Session], campaign_id: int) -> list[CampaignAttempt]:
    with sessions() as session:
        query = select(CampaignAttempt).where(CampaignAttempt.campaign_id == campaign_id).order_by(CampaignAttempt.id)
        return list(session.scalars(query))


def _campaign(sessions: sessionmaker[Session], settings: Settings, tmp_path: Path, n: int) -> int:
    rows = [client(f"c{i}", phone=f"+8529000{i:04d}") for i in range(n)]
    return make_campaign(sessions, settings, tmp_path / "c.csv", rows, as_of=T0, control_share=0.0).campaign_id


def test_run_dials_everyone_once_with_webhook_urls(
    sessions: sessionmaker[Session], dial_settings: Settings, tmp_path: Path
) -> None:
    campaign_id = _campaign(sessions, dial_settings, tmp_path, 4)
    provider = FakeProvider(sessions, FakeClock(T0))
    summary = _run(sessions, provider, dial_settings, campaign_id)
    assert (summary.dialed, summary.placed, summary.remaining) == (4, 4, 0)
    attempts = _attempts(sessions, campaign_id)
    assert [a.state for a in attempts] == ["completed"] * 4
    first = provider.calls[0][1]
    assert first.answer_url == f"https://bank.example/voice/answer?attempt={attempts[0].id}"
    assert first.status_url == f"https://bank.example/voice/status?attempt={attempts[0].id}"
    assert first.metadata["idempotency_key"] == f"{campaign_id}:{attempts[0].client_id}:1"
    assert {c.call_state for c in _clients(sessions, campaign_id).values()} == {"done"}


def test_calls_per_second_are_paced_exactly(
    sessions: sessionmaker[Session], dial_settings: Settings, tmp_path: Path
) -> None:
    campaign_id = _campaign(sessions, dial_settings, tmp_path, 10)
    provider = FakeProvider(sessions, FakeClock(T0))
    summary = _run(sessions, provider, dial_settings, campaign_id, cps=2.0)
    gaps = [(b[0] - a[0]).total_seconds() for a, b in zip(provider.calls, provider.calls[1:], strict=False)]
    assert gaps == [0.5] * 9
    assert summary.calls_per_second == 2.0


def test_concurrency_limit_holds_until_calls_end(
    sessions: sessionmaker[Session], dial_settings: Settings, tmp_path: Path
) -> None:
    campaign_id = _campaign(sessions, dial_settings, tmp_path, 4)
    clock = FakeClock(T0)
    provider = FakeProvider(sessions, clock, outcome=lambda _r, _n: "ringing")  # no call ever ends
    campaigns = dial_settings.campaigns.model_copy(update={"stale_call_after_s": 30.0})
    dial_settings = dial_settings.model_copy(update={"campaigns": campaigns})
    _run(sessions, provider, dial_settings, campaign_id, max_concurrent=2)
    times = [at for at, _ in provider.calls]
    assert len(times) == 4
    stale = dial_settings.campaigns.stale_call_after_s
    assert (times[2] - times[0]).total_seconds() >= stale  # the third waited for a slot


def test_busy_is_retried_after_backoff_and_answered(
    sessions: sessionmaker[Session], dial_settings: Settings, tmp_path: Path
) -> None:
    campaign_id = _campaign(sessions, dial_settings, tmp_path, 1)
    clock = FakeClock(T0)
    provider = FakeProvider(sessions, clock, outcome=lambda _r, n: "busy" if n == 1 else "completed")
    first = _run(sessions, provider, dial_settings, campaign_id)
    assert (first.dialed, first.remaining) == (1, 1)
    retry_at = _clients(sessions, campaign_id)["c0"].next_call_at
    assert retry_at is not None and retry_at >= T0 + timedelta(seconds=dial_settings.campaigns.retry_backoff_s)
    clock.advance_to(retry_at)
    second = _run(sessions, provider, dial_settings, campaign_id)
    assert (second.dialed, second.remaining) == (1, 0)
    assert [(a.attempt_no, a.state) for a in _attempts(sessions, campaign_id)] == [(1, "busy"), (2, "completed")]


def test_crash_and_restart_neither_skips_nor_redials_an_attempt(
    sessions: sessionmaker[Session], dial_settings: Settings, tmp_path: Path
) -> None:
    campaign_id = _campaign(sessions, dial_settings, tmp_path, 5)
    clock = FakeClock(T0)
    provider = FakeProvider(sessions, clock, crash_on={3})
    with pytest.raises(Crash):
        _run(sessions, provider, dial_settings, campaign_id)
    for _ in range(5):  # restart until done, letting virtual time pass the backoff
        summary = _run(sessions, provider, dial_settings, campaign_id)
        if summary.remaining == 0:
            break
        pending = [c.next_call_at for c in _clients(sessions, campaign_id).values() if c.next_call_at]
        clock.advance_to(min(pending))
    keys = Counter(request.metadata["idempotency_key"] for _, request in provider.calls)
    assert max(keys.values()) == 1
    attempts = _attempts(sessions, campaign_id)
    states = Counter(a.state for a in attempts)
    assert states["completed"] == 5 and states["unknown"] >= 1 and set(states) == {"completed", "unknown"}
    for crashed in (a for a in attempts if a.state == "unknown"):  # each written off, then dialled anew
        assert any(a.client_id == crashed.client_id and a.attempt_no == crashed.attempt_no + 1 for a in attempts)
    assert {c.call_state for c in _clients(sessions, campaign_id).values()} == {"done"}


def test_rechecks_at_dial_time_opt_out_and_calling_hours(
    sessions: sessionmaker[Session], dial_settings: Settings, tmp_path: Path
) -> None:
    campaign_id = _campaign(sessions, dial_settings, tmp_path, 2)
    with transaction(sessions) as session:
        opt_out(session, client_key="c0", channel="wecom", evidence="别再打了")
    night = FakeClock(T0 + timedelta(hours=11))  # 22:00 in Hong Kong
    provider = FakeProvider(sessions, night)
    summary = _run(sessions, provider, dial_settings, campaign_id)
    assert provider.calls == []
    assert summary.skipped == {"do_not_contact": 1, "outside_hours": 1}
    got = _clients(sessions, campaign_id)
    assert (got["c0"].call_state, got["c0"].stop_reason) == ("done", "do_not_contact")
    assert got["c1"].call_state == "pending"
    assert got["c1"].next_call_at == T0 + timedelta(hours=22)  # 09:00 next day in Hong Kong


def test_a_number_refused_by_phone_after_planning_is_not_dialled_in_any_campaign(
    sessions: sessionmaker[Session], dial_settings: Settings, tmp_path: Path
) -> None:
    """An admin records a hotline refusal by number only (another identity): the pre-dial check stops it."""
    first = _campaign(sessions, dial_settings, tmp_path, 2)
    second = make_campaign(sessions, dial_settings, tmp_path / "b.csv", [client("other-id", phone="+85290000001")],
                           as_of=T0, control_share=0.0).campaign_id  # fmt: skip
    with transaction(sessions) as session:
        opt_out(session, client_key="phone:+85290000001", phone="+852 9000 0001", channel="phone",
                evidence="客户致电客服热线", recorded_by="console:ops-admin")  # fmt: skip
    provider = FakeProvider(sessions, FakeClock(T0))
    assert _run(sessions, provider, dial_settings, first).skipped == {"do_not_contact": 1}
    assert _run(sessions, provider, dial_settings, second).skipped == {"do_not_contact": 1}
    assert [r.to for _, r in provider.calls] == ["+85290000000"]


def test_dry_run_changes_nothing(sessions: sessionmaker[Session], dial_settings: Settings, tmp_path: Path) -> None:
    campaign_id = _campaign(sessions, dial_settings, tmp_path, 3)
    provider = FakeProvider(sessions, FakeClock(T0))
    summary = _run(sessions, provider, dial_settings, campaign_id, dry_run=True)
    assert provider.calls == [] and _attempts(sessions, campaign_id) == []
    assert (len(summary.would_dial), summary.would_dial_count, summary.remaining) == (3, 3, 3)


def test_a_second_dialer_is_refused_while_the_first_holds_the_lease(
    sessions: sessionmaker[Session], dial_settings: Settings, tmp_path: Path
) -> None:
    campaign_id = _campaign(sessions, dial_settings, tmp_path, 1)
    clock = FakeClock(T0)
    with transaction(sessions) as session:  # another live run, e.g. in a second terminal
        acquire_lease(session, campaign_id=campaign_id, owner="other", now=T0, ttl=timedelta(seconds=90))
    provider = FakeProvider(sessions, clock)
    with pytest.raises(InputError, match="being dialled by another run"):
        _run(sessions, provider, dial_settings, campaign_id)
    assert provider.calls == []
    clock.advance_to(T0 + timedelta(seconds=91))  # that run crashed: its lease expires
    assert _run(sessions, provider, dial_settings, campaign_id).dialed == 1
    with sessions() as session:
        campaign = session.get(Campaign, campaign_id)
        assert campaign is not None and campaign.lease_owner is None  # released at the end


class _Failing(FakeProvider):
    """Twilio unreachable on the first call, then refusing the number on the next one."""

    async def place_call(self, request: CallRequest) -> PlacedCall:
        self.calls.append((self.clock.now(), request))
        if len(self.calls) == 1:
            raise ProviderUnavailableError("Twilio unreachable: timeout")
        raise CallRefusedError("Twilio refused the call: 21215 geo permission")


def test_provider_failure_is_retried_and_a_refusal_stops_the_client(
    sessions: sessionmaker[Session], dial_settings: Settings, tmp_path: Path
) -> None:
    campaign_id = _campaign(sessions, dial_settings, tmp_path, 1)
    clock = FakeClock(T0)
    provider = _Failing(sessions, clock)
    first = _run(sessions, provider, dial_settings, campaign_id)
    assert (first.dialed, first.failed, first.remaining) == (1, 1, 1)
    retry_at = _clients(sessions, campaign_id)["c0"].next_call_at
    assert retry_at is not None and retry_at > T0
    clock.advance_to(retry_at)
    second = _run(sessions, provider, dial_settings, campaign_id)
    assert (second.refused, second.remaining) == (1, 0)
    assert [(a.attempt_no, a.state) for a in _attempts(sessions, campaign_id)] == [(1, "failed"), (2, "refused")]
    assert "21215" in (_attempts(sessions, campaign_id)[1].error or "")
    row = _clients(sessions, campaign_id)["c0"]
    assert (row.call_state, row.stop_reason) == ("done", "refused")
