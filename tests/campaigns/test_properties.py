"""Property tests over generated client lists and clocks: the calling rules hold for every call placed,
and a crash at any point neither skips a client nor dials one attempt twice."""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.campaigns.dialer import run_campaign
from bot.campaigns.models import CampaignAttempt, CampaignClient
from bot.campaigns.provider import CallRequest
from bot.campaigns.rules import CampaignRules
from bot.contacts.service import opt_out
from bot.db import make_engine, session_factory, transaction
from bot.settings import Settings
from tests.campaigns.conftest import add_attempt, add_campaign, add_client
from tests.campaigns.fakes import Crash, FakeClock, FakeProvider, client, make_campaign

STATUSES = ("completed", "busy", "no-answer", "failed")
COUNTRIES = {"+852": "9", "+65": "8", "+44": "7", "+1": "4", "+86": "13"}

people = st.lists(
    st.fixed_dictionaries(
        {
            "consent": st.booleans(),
            "dnc": st.sampled_from(["none", "none", "before", "after"]),
            "country": st.sampled_from(sorted(COUNTRIES)),
            "dormant_days": st.integers(0, 800),
            "called_elsewhere_days_ago": st.none() | st.integers(1, 45),
            "outcomes": st.lists(st.sampled_from(STATUSES), min_size=1, max_size=4),
        }
    ),
    min_size=1,
    max_size=12,
)
clocks = st.datetimes(min_value=datetime(2026, 12, 1), max_value=datetime(2027, 3, 1)).map(
    lambda d: d.replace(tzinfo=UTC)
)


def _phone(country: str, i: int) -> str:
    return f"{country}{COUNTRIES[country]}{i:07d}" if country != "+86" else f"+86138{i:08d}"


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(people=people, start=clocks, crash_at=st.none() | st.integers(1, 8))
def test_calling_rules_hold_for_every_call(
    people: list[dict[str, Any]], start: datetime, crash_at: int | None, _migrated_db: Path, settings: Settings
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "advisor.db"
        shutil.copyfile(_migrated_db, path)
        engine = make_engine(f"sqlite:///{path}")
        try:
            _check(session_factory(engine), people, start, crash_at, settings, Path(tmp))
        finally:
            engine.dispose()


def _check(
    sessions: sessionmaker[Session], people: list[dict[str, Any]], start: datetime, crash_at: int | None,
    settings: Settings, tmp: Path,
) -> None:  # fmt: skip
    campaigns = settings.campaigns.model_copy(update={"rest_dates": [date(2026, 12, 25), date(2027, 1, 1)]})
    telephony = settings.telephony.model_copy(update={"public_base_url": "https://bank.example"})
    settings = settings.model_copy(update={"campaigns": campaigns, "telephony": telephony})
    rules = CampaignRules.from_settings(campaigns)
    rows, outcome_of = [], {}
    with transaction(sessions) as session:
        other = add_campaign(session)
        for i, person in enumerate(people):
            cid, phone = f"p{i}", _phone(person["country"], i)
            last = (start.date() - timedelta(days=person["dormant_days"])).isoformat()
            consent = {"consent_call": "yes" if person["consent"] else "no", "consent_date": "2025-01-01"}
            rows.append(client(cid, phone=phone, last_activity_date=last, **consent))
            outcome_of[phone] = person["outcomes"]
            if person["dnc"] == "before":
                opt_out(session, client_key=cid, channel="wecom", evidence="no")
            if person["called_elsewhere_days_ago"] is not None:
                row = add_client(session, other, client_id=cid, phone=phone)
                add_attempt(session, row, dialing_at=start - timedelta(days=person["called_elsewhere_days_ago"]))
    created = make_campaign(sessions, settings, tmp / "c.csv", rows, as_of=start, control_share=0.2)
    with transaction(sessions) as session:  # opt-outs after planning must still stop the call
        for i, person in enumerate(people):
            if person["dnc"] == "after":
                opt_out(session, client_key="x", phone=_phone(person["country"], i), channel="voice", evidence="no")

    def outcome(request: CallRequest, _n: int) -> str:
        sequence = outcome_of[request.to]
        made = sum(1 for _, r in provider.calls if r.to == request.to)
        return sequence[min(made - 1, len(sequence) - 1)]

    clock = FakeClock(start)
    provider = FakeProvider(sessions, clock, outcome=outcome, crash_on={crash_at} if crash_at else set())
    for _ in range(30):
        try:
            run = run_campaign(
                sessions=sessions,
                provider=provider,
                settings=settings,
                campaign_id=created.campaign_id,
                clock=clock,
                progress=False,
            )
            summary = asyncio.run(run)
        except Crash:
            continue
        if summary.remaining == 0:
            break
        with sessions() as session:
            due = session.scalar(
                select(CampaignClient.next_call_at)
                .where(CampaignClient.campaign_id == created.campaign_id, CampaignClient.call_state == "pending")
                .order_by(CampaignClient.next_call_at)
            )
        if due is not None:
            clock.advance_to(due)

    with sessions() as session:
        clients = {c.phone: c for c in session.scalars(
            select(CampaignClient).where(CampaignClient.campaign_id == created.campaign_id))}  # fmt: skip
        attempts = {a.id: a for a in session.scalars(select(CampaignAttempt))}
    keys = Counter(r.metadata["idempotency_key"] for _, r in provider.calls)
    assert not keys or max(keys.values()) == 1, "an attempt was dialled twice"
    by_phone = {_phone(p["country"], i): p for i, p in enumerate(people)}
    for at, request in provider.calls:
        person, row = by_phone[request.to], clients[request.to]
        attempt = attempts[int(request.metadata["attempt_id"])]
        assert person["consent"], "called without consent"
        assert person["dnc"] == "none", "called a do-not-contact client"
        assert not request.to.startswith("+86"), "called a number the provider refuses"
        assert person["dormant_days"] >= rules.dormant_days, "called an active client"
        assert rules.window.allows(at, row.timezone), f"called outside hours or on a rest day: {at} {row.timezone}"
        ago = person["called_elsewhere_days_ago"]
        if ago is not None:
            last_other = start - timedelta(days=ago)
            assert at - last_other >= timedelta(days=rules.frequency_cap_days), "frequency cap broken"
        assert attempt.attempt_no <= rules.max_attempts and row.arm == "treatment"
    for row in clients.values():
        assert row.call_state in ("none", "done"), f"{row.client_id} left {row.call_state}"
        if row.status == "eligible" and row.arm == "treatment":
            stopped_before_dialling = {"do_not_contact", "frequency_cap", "provider_refused"}
            assert row.attempts >= 1 or row.stop_reason in stopped_before_dialling, f"{row.client_id} was skipped"
