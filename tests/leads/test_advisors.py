"""'My leads' on WeCom: an advisor sees their open leads, call-backs due first, in the bank's time zone."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session, sessionmaker

from bot.channels.wecom.staff import LeadsProvider
from bot.db import transaction
from bot.leads import service
from bot.leads.advisors import AdvisorLeads, advisor_texts
from bot.leads.contact import attach_contact

from .conftest import record

SHANGHAI = ZoneInfo("Asia/Shanghai")


async def test_an_advisor_sees_only_their_open_leads(sessions: sessionmaker[Session]) -> None:
    provider: LeadsProvider = AdvisorLeads(sessions=sessions, tz=SHANGHAI, limit=2)
    assert await provider.leads_for("zhangsan") == advisor_texts().none
    with transaction(sessions) as session:
        (warm,) = record(session, score=90, evidence="=我想买WM001，" + "很急" * 40)
        (callback,) = record(
            session, type="callback_request", product_codes=[], score=40, evidence="明天上午十点打给我",
            callback_at=datetime(2025, 5, 2, 10, tzinfo=SHANGHAI),
        )  # fmt: skip
        (cool,) = record(session, client_key="c-2", score=20)
        (closed,) = record(session, client_key="c-3", score=99)
        (others,) = record(session, client_key="c-4", score=99)
        for lead in (warm, callback, cool, closed):
            service.assign_advisor(session, lead_id=lead.id, advisor_id="zhangsan")
        attach_contact(session, client_key="c-1", name="王芳", phone="13812345678", consent_text="同意联系",
                       consented_at=datetime(2025, 5, 1, 9, tzinfo=SHANGHAI), lead_id=callback.id)  # fmt: skip
        service.assign_advisor(session, lead_id=others.id, advisor_id="lisi")
        service.update_status(session, lead_id=closed.id, status="closed")
    text = await provider.leads_for("zhangsan")
    lines = text.splitlines()
    assert lines[0] == advisor_texts().header
    assert lines[1].startswith(
        f"#{callback.id} 预约回电｜新线索｜评分 40｜约定回电 05-02 10:00｜联系人 王芳 +8613812345678"
    )
    assert lines[3].startswith(f"#{warm.id} 产品意向（WM001）｜新线索｜评分 90")
    assert lines[4].endswith("…") and len(lines[4]) < 80
    assert f"#{cool.id}" not in text and f"#{closed.id}" not in text and f"#{others.id}" not in text
    assert lines[-1] == advisor_texts().more.format(shown=2)
