"""The opt-out register: one entry per refusal received, what it covers, listing and CSV export."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session, sessionmaker

from bot.contacts import register, service
from bot.contacts.register import OptOutFilters, coverage_text
from bot.db import transaction

T0 = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)


def _refuse(sessions: sessionmaker[Session], **fields: object) -> service.OptOutRecorded:
    with transaction(sessions) as session:
        return service.opt_out(session, **fields)  # type: ignore[arg-type]


def test_with_a_phone_the_number_is_blocked_everywhere_without_only_the_identity(
    sessions: sessionmaker[Session],
) -> None:
    web = _refuse(sessions, client_key="web:abc", channel="web", evidence="别再发了", now=T0)
    voice = _refuse(sessions, client_key="C00001", phone="+852 9123 4567", channel="voice", evidence="不要再打", now=T0)
    assert (web.covers, web.phone) == ("identity", None)
    assert (voice.covers, voice.phone) == ("phone", "+85291234567")
    with sessions() as session:
        # the web refusal stops nothing by number; the voice one stops the number for any client id
        assert service.may_market(session, phone="+85291234567") is False
        assert service.is_do_not_contact(session, client_key="someone-else", phone="+85291234567")
        assert service.is_do_not_contact(session, client_key="web:abc")


def test_a_later_phone_turns_an_identity_refusal_into_a_number_refusal(sessions: sessionmaker[Session]) -> None:
    first = _refuse(sessions, client_key="wecom:wm1", channel="wecom", evidence="退订", now=T0)
    second = _refuse(sessions, client_key="wecom:wm1", phone="13812345678", channel="wecom", evidence="退订", now=T0)
    repeat = _refuse(sessions, client_key="wecom:wm1", channel="wecom", evidence="退订", now=T0)
    assert first.covers == "identity" and second.covers == "phone"
    assert second.record is not None and second.record.phone == "+8613812345678"
    assert repeat.record is None and repeat.covers == "phone"  # the identity's number stays blocked
    with sessions() as session:
        page = register.list_opt_outs(session, filters=OptOutFilters())
    assert page.total == 2  # two refusals that each blocked something new; the repeat added nothing


def test_list_filters_and_export(sessions: sessionmaker[Session]) -> None:
    _refuse(sessions, client_key="web:a", channel="web", evidence="=HYPERLINK(x)", now=T0)
    _refuse(
        sessions, client_key="C00002", phone="+6591234567", channel="voice", evidence="no", now=T0 + timedelta(hours=1)
    )
    _refuse(
        sessions, client_key="phone:+85291230000", phone="+85291230000", channel="phone", evidence="hotline call",
        recorded_by="console:ops-admin", now=T0 + timedelta(days=2),
    )  # fmt: skip
    with sessions() as session:
        everything = register.list_opt_outs(session, filters=OptOutFilters())
        by_phone = register.list_opt_outs(session, filters=OptOutFilters(covers="phone"))
        web_only = register.list_opt_outs(session, filters=OptOutFilters(channel="web"))
        early = register.list_opt_outs(session, filters=OptOutFilters(until=T0 + timedelta(days=1)))
        masked = "".join(register.export_csv(session, filters=OptOutFilters(), tz=ZoneInfo("Asia/Shanghai"), mask=True))
        full = "".join(register.export_csv(session, filters=OptOutFilters(), tz=ZoneInfo("Asia/Shanghai"), mask=False))
    assert [r.client_key for r in everything.items] == ["phone:+85291230000", "C00002", "web:a"]  # newest first
    assert everything.items[0].recorded_by == "console:ops-admin"
    assert by_phone.total == 2 and web_only.total == 1 and early.total == 2
    rows = list(csv.DictReader(io.StringIO(full.lstrip("\ufeff"))))
    assert [r["covers"] for r in rows] == ["identity", "phone", "phone"]
    assert rows[0]["evidence"] == "'=HYPERLINK(x)"  # never an Excel formula
    assert rows[1]["opted_out_at"] == "2026-12-01T11:00:00+08:00"  # the bank's zone, with its offset
    assert rows[1]["phone"] == "+6591234567"
    assert "+6591234567" not in masked and "4567" in masked


def test_coverage_wording_is_honest_in_both_languages() -> None:
    phone = coverage_text("phone", channel="voice", phone="+8613812345678", language="zh", hotline="400-000-0000")
    identity = coverage_text("identity", channel="web", phone=None, language="zh", hotline="400-000-0000")
    identity_en = coverage_text("identity", channel="wecom", phone=None, language="en", hotline="400-000-0000")
    assert "5678" in phone and "所有渠道" in phone
    assert "网页聊天" in identity and "无法" in identity and "400-000-0000" in identity
    assert "WeCom" in identity_en and "cannot stop marketing calls" in identity_en
