"""The leads API for bank staff and CRM tooling: list, filter, paginate, export, change status.

Every route needs the `X-API-Key` header (compared in constant time with settings.leads.api_key);
with no key configured the API answers 503 rather than serving leads unprotected. Handlers are plain
`def`: FastAPI runs them in its thread pool, where blocking database calls belong.
"""

from __future__ import annotations

import hmac
import re
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta, tzinfo
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, HTTPException, Query, Request, Security
from fastapi.exceptions import RequestValidationError
from fastapi.responses import StreamingResponse
from fastapi.security import APIKeyHeader
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from sqlalchemy.orm import Session, sessionmaker

from bot.db import DB_INT_MAX, transaction
from bot.deps import RowId, SettingsDep
from bot.errors import InputError
from bot.leads import service
from bot.leads.errors import LeadNotFound, TransitionNotAllowed
from bot.leads.models import LeadFilters, LeadRead, LeadStatus, LeadType, LeadUpdate, Page
from bot.settings import Settings

_api_key = APIKeyHeader(name="X-API-Key", auto_error=False, description="settings.leads.api_key")
_DATE_ONLY = re.compile(r"\d{4}-\d{2}-\d{2}")


def require_api_key(settings: SettingsDep, key: Annotated[str | None, Security(_api_key)]) -> None:
    """401 without the right key; 503 when no key is configured (the API is off, not open)."""
    expected = settings.leads.api_key.get_secret_value() if settings.leads.api_key else ""
    if not expected:
        raise HTTPException(503, "the leads API is disabled: set ADVISOR_LEADS__API_KEY to enable it")
    if key is None or not hmac.compare_digest(key.encode("utf-8"), expected.encode("utf-8")):
        raise HTTPException(401, "missing or invalid X-API-Key header", headers={"WWW-Authenticate": "APIKey"})


def get_sessions(request: Request) -> sessionmaker[Session]:
    """The app's session factory (app.state.sessions, built once in the lifespan)."""
    sessions: sessionmaker[Session] | None = getattr(request.app.state, "sessions", None)
    if sessions is None:
        raise RuntimeError("app.state.sessions is not set: the app's lifespan must create the session factory")
    return sessions


SessionsDep = Annotated[sessionmaker[Session], Depends(get_sessions)]


class LeadQuery(BaseModel):
    """Filters as query parameters; unknown parameters are refused so a typo never widens a query.

    Dates: `2024-05-01` is a whole day in the bank's time zone (dialogue.timezone), so
    `created_from=2024-05-01&created_to=2024-05-31` covers all of May; date-times without an offset
    are read in that zone too, and `created_to` as a date-time is exclusive.
    """

    model_config = ConfigDict(extra="forbid")

    status: LeadStatus | None = None
    type: LeadType | None = None
    channel: str | None = Field(default=None, max_length=32)
    client_key: str | None = Field(default=None, max_length=128)
    product_code: str | None = Field(default=None, max_length=64)
    advisor_id: str | None = Field(default=None, max_length=64)
    unassigned: bool | None = None
    created_from: date | datetime | None = None
    created_to: date | datetime | None = None

    @field_validator("created_from", "created_to", mode="before")
    @classmethod
    def _iso_date_or_datetime(cls, value: Any) -> Any:
        """One clear message for anything that is not ISO 8601 (no guessing at "05/01" or timestamps)."""
        if not isinstance(value, str):
            return value
        text = value.strip()
        try:
            return date.fromisoformat(text) if _DATE_ONLY.fullmatch(text) else datetime.fromisoformat(text)
        except ValueError:
            raise ValueError(
                f"{value!r} is not a date (2025-05-01) or an ISO 8601 date-time (2025-05-01T08:00:00+08:00)"
            ) from None

    def to_filters(self, tz: tzinfo) -> LeadFilters:
        """Aware [from, to) bounds for the service."""

        def bound(value: date | datetime | None, *, end: bool) -> datetime | None:
            if value is None:
                return None
            if isinstance(value, datetime):
                return value if value.tzinfo else value.replace(tzinfo=tz)
            day = value + timedelta(days=1) if end else value
            return datetime.combine(day, time(0), tzinfo=tz)

        data = self.model_dump(exclude={"created_from", "created_to", "page", "page_size"})
        return LeadFilters(
            **data,
            created_from=bound(self.created_from, end=False),
            created_to=bound(self.created_to, end=True),
        )


class LeadListQuery(LeadQuery):
    """Filters plus paging (page from 1, at most 200 a page)."""

    # Bounded so the row offset, (page - 1) * page_size, fits the database's 64-bit integers.
    page: int = Field(default=1, ge=1, le=DB_INT_MAX // service.MAX_PAGE_SIZE)
    page_size: int = Field(default=50, ge=1, le=service.MAX_PAGE_SIZE)


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
    """One lead."""
    try:
        with sessions() as session:
            return service.get_lead(session, lead_id=lead_id)
    except LeadNotFound as exc:
        raise HTTPException(404, str(exc)) from exc


@router.patch("/{lead_id}", response_model=LeadRead)
def update_lead(lead_id: RowId, body: LeadUpdate, sessions: SessionsDep) -> LeadRead:
    """Change status (new → contacted → converted | closed, or new → closed) and/or assign an advisor."""
    try:
        with transaction(sessions) as session:
            lead = service.get_lead(session, lead_id=lead_id)
            if body.status is not None:
                lead = service.update_status(session, lead_id=lead_id, status=body.status)
            if "advisor_id" in body.model_fields_set:
                lead = service.assign_advisor(session, lead_id=lead_id, advisor_id=body.advisor_id)
            return lead
    except LeadNotFound as exc:
        raise HTTPException(404, str(exc)) from exc
    except TransitionNotAllowed as exc:
        raise HTTPException(409, str(exc)) from exc
    except InputError as exc:
        raise HTTPException(422, str(exc)) from exc
