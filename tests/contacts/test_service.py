"""Do-not-contact and risk profiles on a real, migrated SQLite file."""

from __future__ import annotations

import logging
import threading
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from bot.contacts import service
from bot.contacts.models import DoNotContact, OptOut, RiskProfile
from bot.db import transaction
from bot.errors import InputError

WORDS = "别再给我打电话了"


def test_an_opt_out_holds_at_once_for_the_client_and_the_phone(sessions: sessionmaker[Session]) -> None:
    with transaction(sessions) as session:
        service.opt_out(session, client_key="c-1", phone="138 1234 5678", channel="web", evidence=WORDS)
    # A new session, as another channel or campaign would use, sees the refusal straight away.
    with sessions() as session:
        assert service.is_do_not_contact(session, client_key="c-1")
        assert service.is_do_not_contact(session, phone="+8613812345678")
        assert service.is_do_not_contact(session, phone="0086 138-1234-5678")
        assert service.is_do_not_contact(session, client_key="someone-else", phone="13812345678")
        assert not service.may_market(session, client_key="c-1")
        assert service.may_market(session, client_key="c-2")
        assert service.may_market(session, phone="13900000000")
        assert service.do_not_contact_phones(session) == {"+8613812345678"}
        assert service.do_not_contact_clients(session) == {"c-1"}


def test_opt_out_is_idempotent_and_keeps_the_first_evidence(sessions: sessionmaker[Session]) -> None:
    first = datetime(2025, 1, 2, 3, 4, tzinfo=UTC)
    with transaction(sessions) as session:
        service.opt_out(session, client_key="c-1", phone="13812345678", channel="voice", evidence=WORDS, now=first)
    with transaction(sessions) as session:
        again = service.opt_out(session, client_key="c-1", phone="13812345678", channel="web", evidence="不要再发了")
    assert {(r.key_kind, r.channel, r.evidence, r.opted_out_at) for r in again.keys} == {
        ("client", "voice", WORDS, first),
        ("phone", "voice", WORDS, first),
    }
    assert again.record is None and again.covers == "phone"  # nothing new: no second register entry
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(DoNotContact)) == 2
        assert session.scalar(select(func.count()).select_from(OptOut)) == 1


def test_a_later_refusal_adds_a_newly_known_phone(sessions: sessionmaker[Session]) -> None:
    with transaction(sessions) as session:
        service.opt_out(session, client_key="c-1", channel="web", evidence=WORDS)
    with sessions() as session:
        assert service.may_market(session, phone="13812345678")
    with transaction(sessions) as session:
        service.opt_out(session, client_key="c-1", phone="13812345678", channel="voice", evidence="不需要")
    with sessions() as session:
        assert service.is_do_not_contact(session, phone="13812345678")


def test_a_malformed_phone_never_loses_the_refusal(
    sessions: sessionmaker[Session], caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING), transaction(sessions) as session:
        recorded = service.opt_out(
            session, client_key="c-1", phone="my number is secret", channel="web", evidence=WORDS
        )
    assert [r.key_kind for r in recorded.keys] == ["client"] and recorded.covers == "identity"
    assert "not a phone number" in caplog.text
    with sessions() as session:
        assert service.is_do_not_contact(session, client_key="c-1")


def test_checks_refuse_to_guess(sessions: sessionmaker[Session]) -> None:
    with sessions() as session:
        with pytest.raises(InputError, match="client_key or a phone"):
            service.is_do_not_contact(session)
        with pytest.raises(InputError, match="not a phone number"):
            service.may_market(session, phone="12345")
        with pytest.raises(InputError, match="client_key"):
            service.opt_out(session, client_key="  ", channel="web", evidence=WORDS)


def test_concurrent_opt_outs_of_the_same_client_record_it_once(sessions: sessionmaker[Session]) -> None:
    barrier = threading.Barrier(6)
    errors: list[BaseException] = []

    def refuse() -> None:
        try:
            with transaction(sessions) as session:
                barrier.wait()
                service.opt_out(session, client_key="c-1", phone="13812345678", channel="web", evidence=WORDS)
        except BaseException as exc:  # collected and asserted below: a thread's exception is otherwise lost
            errors.append(exc)

    threads = [threading.Thread(target=refuse) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(DoNotContact)) == 2


def _assess(sessions: sessionmaker[Session], level: str, at: datetime, client_key: str = "c-1") -> None:
    with transaction(sessions) as session:
        service.save_risk_profile(
            session, client_key=client_key, level=level, score=12, answers={"q_age": 1}, assessed_at=at
        )


def test_the_latest_assessment_wins_and_history_is_kept(sessions: sessionmaker[Session]) -> None:
    _assess(sessions, "C4", datetime(2025, 3, 1, 2, tzinfo=UTC))
    _assess(sessions, "C2", datetime(2025, 1, 1, 2, tzinfo=UTC))  # recorded later, but assessed earlier
    with sessions() as session:
        assert service.current_risk_level(session, client_key="c-1", today=date(2025, 6, 1), valid_days=365) == "C4"
        assert service.current_risk_level(session, client_key="c-2", today=date(2025, 6, 1), valid_days=365) is None
        assert session.scalar(select(func.count()).select_from(RiskProfile)) == 2
        latest = service.latest_risk_profile(session, client_key="c-1")
    assert latest is not None
    assert latest.answers == {"q_age": 1}
    assert latest.assessed_at == datetime(2025, 3, 1, 2, tzinfo=UTC)


@pytest.mark.parametrize(
    ("today", "expected"),
    [(date(2024, 3, 1), "C3"), (date(2025, 2, 28), "C3"), (date(2025, 3, 1), None), (date(2026, 1, 1), None)],
)
def test_an_assessment_is_valid_for_valid_days_then_asked_again(
    sessions: sessionmaker[Session], today: date, expected: str | None
) -> None:
    _assess(sessions, "C3", datetime(2024, 3, 1, 9, tzinfo=UTC))
    with sessions() as session:
        assert service.current_risk_level(session, client_key="c-1", today=today, valid_days=365) == expected


def test_bad_assessments_are_refused(sessions: sessionmaker[Session]) -> None:
    with transaction(sessions) as session:
        with pytest.raises(InputError, match="C1, C2"):
            service.save_risk_profile(
                session, client_key="c-1", level="R3", score=1, answers={}, assessed_at=datetime.now(UTC)
            )
        with pytest.raises(InputError, match="timezone-aware"):
            service.save_risk_profile(
                session, client_key="c-1", level="C3", score=1, answers={}, assessed_at=datetime(2025, 1, 1)
            )
