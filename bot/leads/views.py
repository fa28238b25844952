"""The leads API for bank staff and CRM tooling: list, filter, paginate, export, change status.

Every route needs the `X-API-Key` header (compared in constant time with settings.leads.api_key);
with no key configured the API answers 503 rather than serving leads unprotected. Handlers are plain
`def`: FastAPI runs them in its thread pool, where blocking database calls belong.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Query
from fastapi.exceptions import RequestValidationError
from fastapi.responses import StreamingResponse
from pydantic import ValidationError

from bot.db import transaction
from bot.deps import RowId, SessionsDep, SettingsDep, require_api_key
from bot.leads import service
from bot.leads.models import LeadFilters, LeadRead, LeadUpdate, Page
from bot.leads.queries import LeadListQuery, LeadQuery
from bot.settings import Settings


def _filters(query: LeadQuery, settings: Settings) -> LeadFilters:
    """Service filters; the one cross-field problem (an empty date range) is a 422 on created_to."""
    try:
        return query.to_filters(ZoneInfo(settings.dialogue.timezone))
    except ValidationError as exc:
        problems = [
            {"type": "value_error", "loc": ("query", "created_to"), "msg": e["msg"], "input": None}
            for e in exc.errors()
        ]
        raise RequestValidationError(problems) from exc


router = APIRouter(prefix="/api/leads", tags=["leads"], dependencies=[Depends(require_api_key)])


@router.get("", response_model=Page[LeadRead])
def list_leads(
    query: Annotated[LeadListQuery, Query()], sessions: SessionsDep, settings: SettingsDep
) -> Page[LeadRead]:
    """Leads matching the filters, newest first."""
    filters = _filters(query, settings)
    with sessions() as session:
        return service.list_leads(session, filters=filters, page=query.page, page_size=query.page_size)


@router.get("/export.csv", response_class=StreamingResponse)
def export_leads(
    query: Annotated[LeadQuery, Query()], sessions: SessionsDep, settings: SettingsDep
) -> StreamingResponse:
    """All matching leads as CSV (UTF-8 with BOM for Excel), times in the bank's time zone."""
    filters = _filters(query, settings)
    tz = ZoneInfo(settings.dialogue.timezone)

    def chunks() -> Iterator[str]:
        with sessions() as session:
            yield from service.export_csv(session, filters=filters, tz=tz)

    stamp = datetime.now(tz).strftime("%Y%m%d-%H%M")
    return StreamingResponse(
        chunks(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="leads-{stamp}.csv"'},
    )


@router.get("/{lead_id}", response_model=LeadRead)
def get_lead(lead_id: RowId, sessions: SessionsDep) -> LeadRead:
    """One lead (404 when there is none)."""
    with sessions() as session:
        return service.get_lead(session, lead_id=lead_id)


@router.patch("/{lead_id}", response_model=LeadRead)
def update_lead(lead_id: RowId, body: LeadUpdate, sessions: SessionsDep) -> LeadRead:
    """Change status (new → contacted → converted | closed, or new → closed) and/or assign an advisor."""
    with transaction(sessions) as session:
        lead = service.get_lead(session, lead_id=lead_id)
        if body.status is not None:
            lead = service.update_status(session, lead_id=lead_id, status=body.status)
        if "advisor_id" in body.model_fields_set:
            lead = service.assign_advisor(session, lead_id=lead_id, advisor_id=body.advisor_id)
        return lead
