"""Recording, dedup, life cycle, listing and export of leads, on a real migrated SQLite file."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from bot.db import transaction
from bot.errors import InputError
from bot.leads import service
from bot.leads.errors import LeadNotFound, TransitionNotAllowed
from bot.leads.models import Lead, LeadFilters, LeadOutbox

from .conftest import record

SHANGHAI = ZoneInfo("Asia/Shanghai")


def _events(sessions: sessionmaker[Session]) -> list[tuple[int, str, dict[str, object]]]:
    with sessions() as session:
        rows = session.scalars(select(LeadOutbox).order_by(LeadOutbox.id))
        return [(r.lead_id, r.event_type, json.loads(r.payload)) for r in rows]


def test_one_lead_per_product_or_one_without(sessions: sessionmaker[Session]) -> None:
    with transaction(sessions) as session:
        two = record(session, product_codes=["WM001", " WM002 ", "WM001", ""])
        none = record(session, type="advisor_request", product_codes=[])
    assert [lead.product_code for lead in two] == ["WM001", "WM002"]
    assert [lead.product_code for lead in none] == [""]
    assert {lead.status for lead in [*two, *none]} == {"new"}
    assert [(lead_id, kind) for lead_id, kind, _ in _events(sessions)] == [
        (two[0].id, "lead.created"),
        (two[1].id, "lead.created"),
        (none[0].id, "lead.created"),
    ]


def test_a_repeat_updates_the_open_lead_and_never_duplicates_it(sessions: sessionmaker[Session]) -> None:
    t0 = datetime(2025, 5, 1, 2, tzinfo=UTC)
    with transaction(sessions) as session:
        (first,) = record(session, score=70, now=t0)
    callback = datetime(2025, 5, 2, 10, tzinfo=SHANGHAI)
    with transaction(sessions) as session:
        (again,) = record(
            session, channel="wecom", sender_id="wx-9", conversation_id="wx-9", score=50, confidence=0.6,
            evidence="WM001 什么时候能买？", summary="客户想了解申购时间", callback_at=callback,
            now=t0 + timedelta(hours=1),
        )  # fmt: skip
    assert again.id == first.id
    assert (again.channel, again.sender_id, again.confidence) == ("wecom", "wx-9", 0.6)
    assert again.score == 70  # a repeat never cools a lead
    assert again.evidence == "我想买稳健理财WM001，大概50万\nWM001 什么时候能买？"
    assert again.summary == "客户想了解申购时间"
    assert again.callback_at == callback
    assert (again.created_at, again.updated_at) == (t0, t0 + timedelta(hours=1))
    kinds = [(kind, payload["lead"]["channel"]) for _, kind, payload in _events(sessions)]  # type: ignore[index]
    assert kinds == [("lead.created", "web"), ("lead.updated", "wecom")]


def test_type_and_product_separate_leads_and_a_closed_lead_allows_a_new_one(sessions: sessionmaker[Session]) -> None:
    with transaction(sessions) as session:
        (a,) = record(session)
        (b,) = record(session, type="callback_request")
        (c,) = record(session, product_codes=["WM002"])
        (d,) = record(session, client_key="c-2")
    assert len({a.id, b.id, c.id, d.id}) == 4
    with transaction(sessions) as session:
        service.update_status(session, lead_id=a.id, status="closed")
        (fresh,) = record(session)
    assert fresh.id != a.id and fresh.status == "new"


def test_the_life_cycle_allows_only_forward_moves(sessions: sessionmaker[Session]) -> None:
    with transaction(sessions) as session:
        (lead,) = record(session)
        (other,) = record(session, client_key="c-2")
    with transaction(sessions) as session:
        assert service.update_status(session, lead_id=lead.id, status="contacted").status == "contacted"
        assert service.update_status(session, lead_id=lead.id, status="contacted").status == "contacted"  # no-op
        assert service.update_status(session, lead_id=lead.id, status="converted").status == "converted"
        assert service.update_status(session, lead_id=other.id, status="closed").status == "closed"
    with transaction(sessions) as session:
        with pytest.raises(TransitionNotAllowed, match="from converted to contacted; allowed: none"):
            service.update_status(session, lead_id=lead.id, status="contacted")
        with pytest.raises(TransitionNotAllowed, match="from closed to new"):
            service.update_status(session, lead_id=other.id, status="new")
        with pytest.raises(InputError, match="'won' is not one of"):
            service.update_status(session, lead_id=lead.id, status="won")
        with pytest.raises(LeadNotFound):
            service.update_status(session, lead_id=999, status="closed")
    # created, then contacted, converted (the repeated "contacted" wrote nothing), closed for the other
    assert [kind for _, kind, _ in _events(sessions)].count("lead.updated") == 3


def test_new_to_converted_is_refused(sessions: sessionmaker[Session]) -> None:
    with transaction(sessions) as session:
        (lead,) = record(session)
        with pytest.raises(TransitionNotAllowed, match="allowed: closed, contacted"):
            service.update_status(session, lead_id=lead.id, status="converted")


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"type": "vip"}, "type"),
        ({"confidence": 1.5}, "confidence"),
        ({"score": 101}, "score"),
        ({"client_key": " "}, "client_key"),
        ({"callback_at": datetime(2025, 1, 1, 10)}, "callback_at"),
        ({"product_codes": ["X" * 65]}, "64 characters"),
    ],
)
def test_invalid_leads_are_refused_with_the_field_named(
    sessions: sessionmaker[Session], overrides: dict[str, object], message: str
) -> None:
    with transaction(sessions) as session, pytest.raises(InputError, match=message):
        record(session, **overrides)


def test_a_failed_transaction_keeps_neither_the_lead_nor_its_event(sessions: sessionmaker[Session]) -> None:
    with pytest.raises(RuntimeError), transaction(sessions) as session:
        record(session)
        raise RuntimeError("the turn failed after the lead was recorded")
    with sessions() as session:
        assert service.list_leads(session, filters=LeadFilters()).total == 0
    assert _events(sessions) == []


def _seed(sessions: sessionmaker[Session]) -> None:
    base = datetime(2025, 5, 1, 0, tzinfo=UTC)
    with transaction(sessions) as session:
        for i in range(7):
            record(
                session, client_key=f"c-{i}", channel="web" if i % 2 else "wecom", product_codes=[f"P{i % 3}"],
                type="advisor_request" if i == 6 else "product_interest", now=base + timedelta(days=i),
            )  # fmt: skip


def test_list_filters_paginates_and_counts(sessions: sessionmaker[Session]) -> None:
    _seed(sessions)
    with sessions() as session:
        page = service.list_leads(session, filters=LeadFilters(), page=1, page_size=3)
        assert page.total == 7 and [lead.client_key for lead in page.items] == ["c-6", "c-5", "c-4"]
        last = service.list_leads(session, filters=LeadFilters(), page=3, page_size=3)
        assert [lead.client_key for lead in last.items] == ["c-0"]
        web = service.list_leads(session, filters=LeadFilters(channel="web"), page_size=200)
        assert {lead.client_key for lead in web.items} == {"c-1", "c-3", "c-5"}
        assert service.list_leads(session, filters=LeadFilters(type="advisor_request")).total == 1
        assert service.list_leads(session, filters=LeadFilters(product_code="P1")).total == 2
        window = LeadFilters(created_from=datetime(2025, 5, 2, tzinfo=UTC), created_to=datetime(2025, 5, 4, tzinfo=UTC))
        assert [lead.client_key for lead in service.list_leads(session, filters=window).items] == ["c-2", "c-1"]
        with pytest.raises(InputError, match="page_size"):
            service.list_leads(session, filters=LeadFilters(), page_size=201)
        with pytest.raises(InputError, match="page must"):
            service.list_leads(session, filters=LeadFilters(), page=0)


def test_export_is_excel_ready_csv_with_chinese_local_times_and_no_formulas(sessions: sessionmaker[Session]) -> None:
    with transaction(sessions) as session:
        record(session, evidence='=HYPERLINK("http://evil")我要买', now=datetime(2025, 5, 1, 1, 30, tzinfo=UTC))
        record(session, client_key="+8613812345678", evidence="想了解一下", product_codes=["WM002"])
    with sessions() as session:
        chunks = list(service.export_csv(session, filters=LeadFilters(), tz=SHANGHAI, chunk_rows=1))
    text = "".join(chunks)
    assert text.startswith("\ufeffid,client_key,")
    rows = list(csv.DictReader(io.StringIO(text.removeprefix("\ufeff"))))
    assert len(rows) == 2
    assert rows[0]["evidence"] == '\'=HYPERLINK("http://evil")我要买'
    assert rows[0]["created_at"] == "2025-05-01T09:30:00+08:00"
    assert rows[1]["client_key"] == "+8613812345678"  # a phone number is not a formula
    assert rows[1]["evidence"] == "想了解一下"
    assert rows[0]["summary"] == "" and rows[0]["status"] == "new"


def test_advisor_assignment_and_my_open_leads(sessions: sessionmaker[Session]) -> None:
    with transaction(sessions) as session:
        (warm,) = record(session, score=90)
        (due,) = record(
            session, type="callback_request", product_codes=[], score=40,
            callback_at=datetime(2025, 5, 2, 10, tzinfo=SHANGHAI),
        )  # fmt: skip
        (done,) = record(session, client_key="c-2")
        for lead in (warm, due, done):
            service.assign_advisor(session, lead_id=lead.id, advisor_id="zhangsan")
        service.update_status(session, lead_id=done.id, status="closed")
    with sessions() as session:
        mine = service.open_leads_for_advisor(session, advisor_id="zhangsan")
        assert [lead.id for lead in mine] == [due.id, warm.id]
        assert service.open_leads_for_advisor(session, advisor_id="lisi") == []


WINDOW = timedelta(hours=24)


def test_one_open_lead_per_sender_and_type_within_the_window(sessions: sessionmaker[Session]) -> None:
    t0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
    with transaction(sessions) as session:
        first = record(session, sender_id="web:x", client_key="web:x", product_codes=["WM001"], now=t0,
                       sender_window=WINDOW)  # fmt: skip
        again = record(session, sender_id="web:x", client_key="web:x", product_codes=["WM002", "WM003"],
                       evidence="还有WM002和WM003", now=t0 + timedelta(hours=1), sender_window=WINDOW)  # fmt: skip
        other_type = record(session, sender_id="web:x", client_key="web:x", type="advisor_request", product_codes=[],
                            now=t0 + timedelta(hours=2), sender_window=WINDOW)  # fmt: skip
        later = record(session, sender_id="web:x", client_key="web:x", product_codes=["WM002"],
                       now=t0 + timedelta(hours=25), sender_window=WINDOW)  # fmt: skip
    assert [lead.id for lead in again] == [first[0].id]  # folded into the open lead, its words kept
    assert "还有WM002和WM003" in again[0].evidence and again[0].product_code == "WM001"
    assert other_type[0].id != first[0].id
    assert later[0].id != first[0].id and later[0].product_code == "WM002"  # the window has passed
    with sessions() as session:
        kinds = session.scalars(select(LeadOutbox.event_type).where(LeadOutbox.lead_id == first[0].id)).all()
        assert sorted(kinds) == ["lead.created", "lead.updated"]
        assert session.scalar(select(func.count()).select_from(Lead)) == 3


def test_a_closed_lead_no_longer_holds_the_window(sessions: sessionmaker[Session]) -> None:
    t0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
    with transaction(sessions) as session:
        (first,) = record(session, sender_id="web:y", now=t0, sender_window=WINDOW)
        service.update_status(session, lead_id=first.id, status="closed", now=t0)
        (second,) = record(session, sender_id="web:y", now=t0 + timedelta(minutes=5), sender_window=WINDOW)
    assert second.id != first.id and second.status == "new"
