"""The opt-out register as staff see it: list, filter, export, and the wording of what a refusal covers.

Reads only; `service.opt_out` is the one writer. Wording lives in texts.yml (Chinese first).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import datetime, tzinfo
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from pydantic import AwareDatetime, BaseModel
from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from bot.contacts.models import Coverage, OptOut, OptOutRecord
from bot.errors import InputError
from bot.language import Language

_TEXTS = Path(__file__).with_name("texts.yml")
MAX_PAGE_SIZE = 200
CSV_COLUMNS = ("id", "opted_out_at", "channel", "client_key", "phone", "covers", "evidence", "recorded_by")


class OptOutFilters(BaseModel):
    """Which register entries to list or export; times are [since, until)."""

    channel: str | None = None
    covers: Coverage | None = None
    since: AwareDatetime | None = None
    until: AwareDatetime | None = None


class OptOutPage(BaseModel):
    """One page of the register, newest first, and the total."""

    items: list[OptOutRecord]
    total: int
    page: int
    page_size: int


def _filtered(query: Select[Any], filters: OptOutFilters) -> Select[Any]:
    if filters.channel:
        query = query.where(OptOut.channel == filters.channel)
    if filters.covers == "phone":
        query = query.where(OptOut.phone.is_not(None))
    elif filters.covers == "identity":
        query = query.where(OptOut.phone.is_(None))
    if filters.since is not None:
        query = query.where(OptOut.opted_out_at >= filters.since)
    if filters.until is not None:
        query = query.where(OptOut.opted_out_at < filters.until)
    return query


def list_opt_outs(session: Session, *, filters: OptOutFilters, page: int = 1, page_size: int = 50) -> OptOutPage:
    """Newest first, one page at a time."""
    if page < 1 or not 1 <= page_size <= MAX_PAGE_SIZE:
        raise InputError(f"page must be 1 or more and page_size between 1 and {MAX_PAGE_SIZE}")
    total = session.scalar(_filtered(select(func.count()).select_from(OptOut), filters)) or 0
    rows = session.scalars(
        _filtered(select(OptOut), filters)
        .order_by(OptOut.opted_out_at.desc(), OptOut.id.desc())
        .offset((page - 1) * page_size)
        .limit(page_size)
    )
    return OptOutPage(items=[OptOutRecord.model_validate(r) for r in rows], total=total, page=page, page_size=page_size)


def _cell(value: object, tz: tzinfo) -> object:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.astimezone(tz).isoformat()
    if isinstance(value, str) and value.startswith(("=", "-", "@", "\t", "\r")):
        return "'" + value  # evidence is the client's own words: never let Excel run it as a formula
    return value


def export_csv(
    session: Session, *, filters: OptOutFilters, tz: tzinfo, mask: bool, chunk_rows: int = 500
) -> Iterator[str]:
    """The matching entries as CSV chunks (UTF-8 BOM first for Excel), oldest first; phones masked if `mask`."""
    from bot.core.masking import mask_phone

    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    yield "\ufeff" + buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    query = _filtered(select(OptOut), filters).order_by(OptOut.opted_out_at, OptOut.id)
    for count, row in enumerate(session.scalars(query.execution_options(yield_per=chunk_rows)), start=1):
        record = OptOutRecord.model_validate(row)
        values = record.model_dump() | {"covers": record.covers}
        if mask and record.phone:
            values["phone"] = mask_phone(record.phone)
        writer.writerow([_cell(values[c], tz) for c in CSV_COLUMNS])
        if count % chunk_rows == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    if buffer.tell():
        yield buffer.getvalue()


class CoverageTexts(BaseModel):
    """texts.yml: what a refusal covers, per coverage and language, and channel names."""

    coverage: dict[str, dict[str, str]]
    channels: dict[str, dict[str, str]]


@cache
def coverage_texts() -> CoverageTexts:
    return CoverageTexts.model_validate(yaml.safe_load(_TEXTS.read_text(encoding="utf-8")))


def coverage_text(covers: Coverage, *, channel: str, phone: str | None, language: Language, hotline: str) -> str:
    """One sentence the bot (or staff) can say about what a recorded refusal covers, honestly.

    With a phone: that number, everywhere. Without: only this channel identity, and how to stop calls too.
    """
    texts = coverage_texts()
    names = texts.channels.get(channel, {})
    return texts.coverage[covers][language].format(
        last4=(phone or "")[-4:], channel=names.get(language, channel), hotline=hotline
    )
