"""A concurrent double (or tenfold) submit of the same lead leaves one lead: real threads, real SQLite file."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from bot.db import make_engine, session_factory, transaction
from bot.leads.models import Lead, LeadOutbox

from .conftest import record


def _race(workers: int, submit: Callable[[int], None]) -> list[BaseException]:
    """Run `submit` in `workers` threads released together; return what they raised."""
    barrier = threading.Barrier(workers)
    errors: list[BaseException] = []

    def run(i: int) -> None:
        try:
            barrier.wait()
            submit(i)
        except BaseException as exc:  # collected and asserted by the caller: a thread's error is otherwise lost
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return errors


@pytest.mark.parametrize("workers", [2, 10])
def test_concurrent_submits_of_one_lead_leave_one_lead(sessions: sessionmaker[Session], workers: int) -> None:
    for round_ in range(3):
        client = f"c-{round_}"

        def submit(i: int, client: str = client) -> None:
            with transaction(sessions) as session:
                record(session, client_key=client, evidence=f"第{i}次提交", product_codes=["WM001", "WM002"])

        assert _race(workers, submit) == []
        with sessions() as session:
            leads = session.scalars(select(Lead).where(Lead.client_key == client)).all()
            assert sorted(lead.product_code for lead in leads) == ["WM001", "WM002"]
            for lead in leads:
                # every submit left its words and exactly one CRM event: one "created", the rest "updated"
                assert all(f"第{i}次提交" in lead.evidence for i in range(workers))
                kinds = session.scalars(select(LeadOutbox.event_type).where(LeadOutbox.lead_id == lead.id)).all()
                assert sorted(kinds) == ["lead.created"] + ["lead.updated"] * (workers - 1)


def test_separate_engines_like_separate_processes_still_leave_one_lead(db_url: str) -> None:
    engines = [make_engine(db_url) for _ in range(4)]
    factories = [session_factory(e) for e in engines]
    try:

        def submit(i: int) -> None:
            with transaction(factories[i]) as session:
                record(session, type="advisor_request", product_codes=[])

        assert _race(4, submit) == []
        with factories[0]() as session:
            assert session.scalar(select(func.count()).select_from(Lead)) == 1
            assert session.scalar(select(func.count()).select_from(LeadOutbox)) == 4
    finally:
        for e in engines:
            e.dispose()


@pytest.mark.parametrize("workers", [2, 8])
def test_concurrent_leads_from_one_sender_leave_one_within_the_window(db_url: str, workers: int) -> None:
    """Different products at once from one chat (two processes' worth of engines): still one open lead."""
    engines = [make_engine(db_url) for _ in range(workers)]
    factories = [session_factory(e) for e in engines]
    try:

        def submit(i: int) -> None:
            with transaction(factories[i]) as session:
                record(session, sender_id="web:flood", client_key="web:flood", product_codes=[f"WM00{i}"],
                       evidence=f"要WM00{i}", sender_window=timedelta(hours=24))  # fmt: skip

        assert _race(workers, submit) == []
        with factories[0]() as session:
            (lead,) = session.scalars(select(Lead).where(Lead.sender_id == "web:flood")).all()
            assert all(f"要WM00{i}" in lead.evidence for i in range(workers))
            kinds = session.scalars(select(LeadOutbox.event_type).where(LeadOutbox.lead_id == lead.id)).all()
            assert sorted(kinds) == ["lead.created"] + ["lead.updated"] * (workers - 1)
    finally:
        for e in engines:
            e.dispose()
