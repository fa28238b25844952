"""Console JSON APIs (/console/api/...): the same data as the pages, for scripts and dashboards.

Every route needs a session cookie or an X-API-Key (401 otherwise); changes need the admin role, and a
cookie session must send its CSRF token as X-CSRF-Token.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, HTTPException, Query, Request, status
from pydantic import BaseModel

from bot.console.deps import ApiAdmin, ApiLogin, ApiUser
from bot.console.service import AuditPage, KnowledgeOverview, audit_log, knowledge_overview
from bot.console.views import lead_filters, lead_query, team_view
from bot.db import transaction
from bot.deps import RowId, SessionsDep, SettingsDep
from bot.errors import InputError
from bot.leads import service as leads
from bot.leads.models import LeadRead, LeadStatus, Page
from bot.leads.queries import LeadListQuery
from bot.roleplay.schemas import TeamView

router = APIRouter(prefix="/console/api", tags=["console"])


class StatusChange(BaseModel):
    status: LeadStatus


@router.get("/me")
def me(principal: ApiLogin) -> dict[str, Any]:
    """Who is logged in, with which role (and advisor id, for advisors)."""
    return {"name": principal.name, "role": principal.role, "via": principal.via, "advisor_id": principal.advisor_id}


@router.get("/leads", response_model=Page[LeadRead])
def list_leads(request: Request, principal: ApiUser, sessions: SessionsDep, settings: SettingsDep) -> Page[LeadRead]:
    """Leads with the page's filters (status, type, channel, advisor_id, created_from, created_to, page);
    contact names and phones masked unless the caller is an admin."""
    query, error = lead_query(request, paged=True)
    if query is None:
        raise InputError(error or "invalid filters")
    filters = lead_filters(query, settings)
    assert isinstance(query, LeadListQuery)
    with sessions() as session:
        page = leads.list_leads(session, filters=filters, page=query.page, page_size=query.page_size)
    if principal.allows("admin"):
        return page
    return page.model_copy(update={"items": [leads.masked(lead) for lead in page.items]})


@router.post("/leads/{lead_id}/status", response_model=LeadRead)
def change_status(lead_id: RowId, body: StatusChange, _: ApiAdmin, sessions: SessionsDep) -> LeadRead:
    """Admins: move a lead along its life cycle (409 if the move is not allowed)."""
    with transaction(sessions) as session:
        return leads.update_status(session, lead_id=lead_id, status=body.status)


@router.get("/knowledge", response_model=KnowledgeOverview)
def knowledge(_: ApiUser, settings: SettingsDep) -> KnowledgeOverview:
    """Approved content, what expires soon, and what the last ingestion refused."""
    return knowledge_overview(
        report_path=settings.data_dir / "knowledge" / "last_ingest.json",
        default_source=settings.knowledge.source_dir,
        today=datetime.now(ZoneInfo(settings.knowledge.timezone)).date(),
        expiring_days=settings.console.expiring_days,
    )


@router.get("/audit", response_model=AuditPage)
def audit(
    principal: ApiUser,
    settings: SettingsDep,
    rule: str | None = None,
    channel: str | None = None,
    limit: Annotated[int, Query(ge=1, le=5000)] = 500,
) -> AuditPage:
    """Guard blocks, newest first; the blocked text only for admins."""
    return audit_log(
        settings.data_dir / "audit" / "compliance.jsonl",
        show_text=principal.allows("admin"),
        rule=rule,
        channel=channel,
        limit=limit,
    )


@router.get("/training", response_model=TeamView)
async def training(request: Request, _: ApiUser, advisor_id: Annotated[list[str] | None, Query()] = None) -> TeamView:
    """Team averages per criterion and the most frequent violations."""
    view = await team_view(request, advisor_id or [])
    if view is None:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, "training service is not running")
    return view
