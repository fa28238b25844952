"""The webhook contract: call context, idempotent status callbacks, retries, monotonic outcomes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker

from bot.campaigns.calls import call_context, record_call_outcome, record_call_status
from bot.campaigns.models import CampaignAttempt, CampaignClient
from bot.contacts.service import is_do_not_contact
from bot.db import transaction
from tests.campaigns.conftest import T0, add_attempt, add_campaign, add_client, rules


def _setup(sessions: sessionmaker[Session], **client: object) -> tuple[int, int]:
    with transaction(sessions) as session:
        campaign = add_campaign(session)
        row = add_client(session, campaign, **client)
        attempt = add_attempt(session, row)
        return attempt.id, row.id


def test_call_context_carries_client_script_and_arm(sessions: sessionmaker[Session]) -> None:
    attempt_id, _ = _setup(sessions)
    with transaction(sessions) as session:
        ctx = call_context(session, attempt_id=attempt_id)
        assert call_context(session, attempt_id=attempt_id + 99) is None
    assert ctx is not None
    assert (ctx.client_id, ctx.name, ctx.language, ctx.arm) == ("c-1", "张三", "zh", "treatment")
    assert ctx.script_id == "script-dormant-reactivation-zh"
    assert (ctx.segment, ctx.risk_level, ctx.advisor_id) == ("dormant_high_aum", "C3", "a-1")


def test_duplicate_and_out_of_order_status_change_nothing(sessions: sessionmaker[Session]) -> None:
    attempt_id, client_id = _setup(sessions)
    sid = f"CA{client_id:04d}1"
    with transaction(sessions) as session:
        assert record_call_status(session, attempt_id=attempt_id, call_sid=sid, status="ringing", now=T0)
        assert record_call_status(
            session, attempt_id=attempt_id, call_sid=sid, status="in-progress", answered_by="human"
        )
        assert not record_call_status(session, attempt_id=attempt_id, call_sid=sid, status="ringing")
        done = record_call_status(session, attempt_id=attempt_id, call_sid=sid, status="completed", duration_s=42)
        assert done
        assert not record_call_status(session, attempt_id=attempt_id, call_sid=sid, status="completed", duration_s=42)
        assert not record_call_status(session, attempt_id=attempt_id, call_sid=sid, status="busy")
        assert not record_call_status(session, attempt_id=attempt_id, call_sid="CAother", status="failed")
        assert not record_call_status(session, attempt_id=attempt_id, call_sid=sid, status="bogus")
        assert not record_call_status(session, attempt_id=attempt_id + 99, call_sid=sid, status="completed")
    with transaction(sessions) as session:
        attempt = session.get(CampaignAttempt, attempt_id)
        client = session.get(CampaignClient, client_id)
        assert attempt is not None and client is not None
        assert (attempt.state, attempt.answered_by, attempt.duration_s) == ("completed", "human", 42)
        assert (client.call_state, client.stop_reason) == ("done", "answered")


def test_busy_schedules_a_retry_after_backoff_inside_calling_hours(sessions: sessionmaker[Session]) -> None:
    attempt_id, client_id = _setup(sessions)
    at = datetime(2026, 12, 1, 11, 50, tzinfo=UTC)  # 19:50 in Hong Kong: backoff lands after hours
    with transaction(sessions) as session:
        assert record_call_status(session, attempt_id=attempt_id, call_sid=f"CA{client_id:04d}1", status="busy", now=at)
    with transaction(sessions) as session:
        client = session.get(CampaignClient, client_id)
        assert client is not None
        assert client.call_state == "pending"
        # 09:00 next morning in Hong Kong (01:00 UTC), Wednesday
        assert client.next_call_at == datetime(2026, 12, 2, 1, 0, tzinfo=UTC)


def test_last_attempt_failing_exhausts_the_client(sessions: sessionmaker[Session]) -> None:
    with transaction(sessions) as session:
        campaign = add_campaign(session, rules_=rules(max_attempts=2))
        row = add_client(session, campaign)
        attempt = add_attempt(session, row, attempt_no=2)
        record_call_status(session, attempt_id=attempt.id, call_sid=attempt.call_sid or "", status="no-answer", now=T0)
        assert (row.call_state, row.stop_reason, row.next_call_at) == ("done", "exhausted", None)


def test_outcome_flags_are_monotonic_and_opt_out_reaches_do_not_contact(sessions: sessionmaker[Session]) -> None:
    attempt_id, client_id = _setup(sessions)
    with transaction(sessions) as session:
        record_call_outcome(session, attempt_id=attempt_id, engaged=True)
        record_call_outcome(session, attempt_id=attempt_id, opted_out=True)
        record_call_outcome(session, attempt_id=attempt_id, engaged=False, opted_out=False)
        record_call_outcome(session, attempt_id=attempt_id, opted_out=True)
    with transaction(sessions) as session:
        attempt = session.get(CampaignAttempt, attempt_id)
        client = session.get(CampaignClient, client_id)
        assert attempt is not None and client is not None
        assert attempt.engaged and attempt.opted_out and not attempt.voicemail
        assert (client.call_state, client.stop_reason) == ("done", "opted_out")
        assert is_do_not_contact(session, phone="+85291234567")
        assert is_do_not_contact(session, client_key="c-1")


def test_callback_time_schedules_the_callback_whatever_the_order(sessions: sessionmaker[Session]) -> None:
    callback = T0 + timedelta(days=1)
    for outcome_first in (True, False):
        attempt_id, client_id = _setup(sessions, client_id=f"cb-{outcome_first}")
        with transaction(sessions) as session:
            attempt = session.get(CampaignAttempt, attempt_id)
            assert attempt is not None
            sid = attempt.call_sid or ""
            if outcome_first:
                record_call_outcome(session, attempt_id=attempt_id, engaged=True, callback_at=callback)
            record_call_status(session, attempt_id=attempt_id, call_sid=sid, status="completed", now=T0)
            if not outcome_first:
                record_call_outcome(session, attempt_id=attempt_id, engaged=True, callback_at=callback)
            # a second, later callback time does not replace the first
            record_call_outcome(session, attempt_id=attempt_id, callback_at=callback + timedelta(days=3))
        with transaction(sessions) as session:
            client = session.get(CampaignClient, client_id)
            assert client is not None
            assert (client.call_state, client.next_call_at) == ("pending", callback)


def test_unknown_attempt_answered_late_cancels_the_retry(sessions: sessionmaker[Session]) -> None:
    with transaction(sessions) as session:
        campaign = add_campaign(session)
        row = add_client(session, campaign)
        attempt = add_attempt(session, row, state="unknown", call_sid=None, placed_at=None, ended_at=T0)
        row.call_state, row.next_call_at = "pending", T0 + timedelta(hours=1)
        assert record_call_status(session, attempt_id=attempt.id, call_sid="CAlate", status="in-progress", now=T0)
        assert (row.call_state, row.stop_reason) == ("done", "answered")
        assert attempt.call_sid == "CAlate"
