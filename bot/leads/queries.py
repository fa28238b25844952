"""The leads filters as query parameters, shared by the leads API and the console's lead pages."""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta, tzinfo
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from bot.db import DB_INT_MAX
from bot.leads.models import LeadFilters, LeadStatus, LeadType
from bot.leads.service import MAX_PAGE_SIZE

_DATE_ONLY = re.compile(r"\d{4}-\d{2}-\d{2}")


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
    page: int = Field(default=1, ge=1, le=DB_INT_MAX // MAX_PAGE_SIZE)
    page_size: int = Field(default=50, ge=1, le=MAX_PAGE_SIZE)
