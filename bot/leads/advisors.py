"""'My leads' for advisors on WeCom: implements bot.channels.wecom.staff.LeadsProvider.

Pass an instance as `WeComRuntime(leads=AdvisorLeads(...))`. Leads are matched to the advisor by
`advisor_id`, which staff set with PATCH /api/leads/{id} {"advisor_id": "<WeCom userid>"}.
"""

from __future__ import annotations

import asyncio
from datetime import tzinfo
from functools import cache
from pathlib import Path

import yaml
from pydantic import BaseModel
from sqlalchemy.orm import Session, sessionmaker

from bot.leads import service
from bot.leads.models import LeadRead

_TEXTS = Path(__file__).with_name("texts.yml")
_EVIDENCE_CHARS = 60


class AdvisorTexts(BaseModel):
    """The wording in texts.yml."""

    none: str
    header: str
    item: str
    product: str
    callback: str
    contact: str
    more: str
    types: dict[str, str]
    statuses: dict[str, str]


@cache
def advisor_texts() -> AdvisorTexts:
    return AdvisorTexts.model_validate(yaml.safe_load(_TEXTS.read_text(encoding="utf-8")))


def render(leads: list[LeadRead], *, limit: int, tz: tzinfo, texts: AdvisorTexts) -> str:
    """A ready-to-send summary: call-backs due soonest first, then the warmest leads."""
    if not leads:
        return texts.none
    lines = [texts.header]
    for lead in leads[:limit]:
        evidence = " ".join(lead.evidence.split())
        if len(evidence) > _EVIDENCE_CHARS:
            evidence = evidence[:_EVIDENCE_CHARS] + "…"
        callback = (
            texts.callback.format(time=lead.callback_at.astimezone(tz).strftime("%m-%d %H:%M"))
            if lead.callback_at
            else ""
        )
        lines.append(
            texts.item.format(
                id=lead.id,
                type=texts.types.get(lead.type, lead.type),
                product=texts.product.format(code=lead.product_code) if lead.product_code else "",
                status=texts.statuses.get(lead.status, lead.status),
                score=f"{lead.score:.0f}",
                callback=callback,
                contact=texts.contact.format(name=lead.contact_name or "", phone=lead.contact_phone)
                if lead.contact_phone
                else "",
                evidence=evidence,
            )
        )
    if len(leads) > limit:
        lines.append(texts.more.format(shown=limit))
    return "\n".join(lines)


class AdvisorLeads:
    """Answers an advisor's "my leads" from the leads table (database work in a thread)."""

    def __init__(self, *, sessions: sessionmaker[Session], tz: tzinfo, limit: int = 10) -> None:
        self._sessions = sessions
        self._tz = tz
        self._limit = limit

    async def leads_for(self, advisor_userid: str) -> str:
        def query() -> list[LeadRead]:
            with self._sessions() as session:
                # One extra row tells us whether to say "more in the leads system".
                return service.open_leads_for_advisor(session, advisor_id=advisor_userid, limit=self._limit + 1)

        leads = await asyncio.to_thread(query)
        return render(leads, limit=self._limit, tz=self._tz, texts=advisor_texts())
