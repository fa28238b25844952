"""Leads: record (deduplicated), list, change status, assign, export.

Callers own the transaction; every create or change also writes its CRM outbox event into the same
session, so the two commit or roll back together.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any

from pydantic import ValidationError
from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from bot.contacts.portable import insert_or_ignore
from bot.db import utcnow
from bot.errors import InputError
from bot.leads import outbox
from bot.leads.assignment import LeadRouting
from bot.leads.contact import enrich_lead
from bot.leads.errors import LeadNotFound, TransitionNotAllowed
from bot.leads.models import (
    OPEN_LEAD,
    OPEN_STATUSES,
    TRANSITIONS,
    Lead,
    LeadCreate,
    LeadFilters,
    LeadRead,
    LeadSenderLock,
    Page,
)

MAX_PAGE_SIZE = 200
_EVIDENCE_CHARS = 4000


def _explain(exc: ValidationError) -> str:
    return "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'value'}: {e['msg']}" for e in exc.errors())


def record_lead(
    session: Session,
    *,
    client_key: str,
    sender_id: str,
    channel: str,
    conversation_id: str,
    type: str,
    intent: str,
    confidence: float | None,
    product_codes: Sequence[str],
    score: float,
    evidence: str,
    summary: str | None = None,
    callback_at: datetime | None = None,
    routing: LeadRouting | None = None,
    now: datetime | None = None,
    sender_window: timedelta | None = None,
) -> list[LeadRead]:
    """Create or update the open lead for each product named (or one with no product).

    One open lead per client, type and product: a repeat updates it (latest contact details, highest
    score, the new words appended to the evidence) and is never duplicated, even when two requests race.
    With `routing`, a lead is linked to the client the bank knows (campaign client list) and given an
    advisor (see bot/leads/assignment.py); contact details the client gave before are carried over.
    With `sender_window`, one open lead per sender and type within that window: anything more from the
    sender, even for other products, updates that lead instead, so one chat cannot flood the CRM.
    """
    try:
        data = LeadCreate.model_validate(
            {
                "client_key": client_key, "sender_id": sender_id, "channel": channel,
                "conversation_id": conversation_id, "type": type, "intent": intent, "confidence": confidence,
                "product_codes": list(product_codes), "score": score, "evidence": evidence, "summary": summary,
                "callback_at": callback_at,
            }
        )  # fmt: skip
    except ValidationError as exc:
        raise InputError(f"invalid lead: {_explain(exc)}") from exc
    at = now or utcnow()
    if sender_window is not None:
        recent = _recent_sender_lead(session, data, since=at - sender_window)
        if recent is not None:
            _merge(recent, data, at)
            outbox.enqueue(session, lead=recent, event_type="lead.updated", now=at)
            return [LeadRead.model_validate(recent)]
        return [_upsert(session, data, (data.product_codes or [""])[0], at, routing)]
    return [_upsert(session, data, code, at, routing) for code in data.product_codes or [""]]


def _recent_sender_lead(session: Session, data: LeadCreate, *, since: datetime) -> Lead | None:
    """The sender's open lead of this type created since `since`, read under the sender's lock row."""
    key = {"sender_id": data.sender_id, "type": data.type}
    insert_or_ignore(session, LeadSenderLock, key, conflict=("sender_id", "type"))  # SQLite: the write lock
    session.execute(select(LeadSenderLock).filter_by(**key).with_for_update())  # PostgreSQL: this row's lock
    return session.scalar(
        select(Lead)
        .where(
            Lead.sender_id == data.sender_id,
            Lead.type == data.type,
            Lead.status.in_(OPEN_STATUSES),
            Lead.created_at >= since,
        )
        .order_by(Lead.created_at.desc(), Lead.id.desc())
        .limit(1)
        .with_for_update()
    )


def _open_lead(session: Session, data: LeadCreate, product_code: str) -> Lead | None:
    # FOR UPDATE serialises concurrent updates of one lead on PostgreSQL; SQLite serialises all writers.
    return session.scalar(
        select(Lead)
        .where(
            Lead.client_key == data.client_key,
            Lead.type == data.type,
            Lead.product_code == product_code,
            Lead.status.in_(OPEN_STATUSES),
        )
        .with_for_update()
    )


def _upsert(
    session: Session, data: LeadCreate, product_code: str, at: datetime, routing: LeadRouting | None
) -> LeadRead:
    """Insert-or-ignore first, then read and update under the write lock.

    The insert comes first because it takes the write lock (SQLite) before anything is read: reading
    first would let two racing repeats merge into the same stale evidence and lose one. The partial
    unique index decides which of two racing submits creates the lead; the other updates it.
    """
    values = {
        "client_key": data.client_key, "sender_id": data.sender_id, "channel": data.channel,
        "conversation_id": data.conversation_id, "type": data.type, "intent": data.intent,
        "confidence": data.confidence, "product_code": product_code, "score": data.score,
        "evidence": data.evidence, "summary": data.summary, "callback_at": data.callback_at,
        "advisor_id": None, "status": "new", "created_at": at, "updated_at": at,
    }  # fmt: skip
    for _ in range(3):
        created = insert_or_ignore(
            session, Lead, values, conflict=("client_key", "type", "product_code"), where=OPEN_LEAD
        )
        lead = _open_lead(session, data, product_code)
        if lead is not None:
            break
        # PostgreSQL only: the open lead we collided with was closed before we could read it; try again.
    else:  # pragma: no cover - needs three such interleavings in a row
        raise InputError(f"lead for {data.client_key}/{data.type}/{product_code!r} could not be stored")
    if not created:
        _merge(lead, data, at)
    enrich_lead(session, lead, routing)
    outbox.enqueue(session, lead=lead, event_type="lead.created" if created else "lead.updated", now=at)
    return LeadRead.model_validate(lead)


def _merge(lead: Lead, data: LeadCreate, at: datetime) -> None:
    """Fold a repeat into the open lead: reach the client where they spoke last; never cool the score."""
    lead.sender_id, lead.channel, lead.conversation_id = data.sender_id, data.channel, data.conversation_id
    lead.intent, lead.confidence = data.intent, data.confidence
    lead.score = max(lead.score, data.score)
    if data.evidence and data.evidence not in lead.evidence:
        lead.evidence = f"{lead.evidence}\n{data.evidence}".strip()[-_EVIDENCE_CHARS:]
    if data.summary is not None:
        lead.summary = data.summary
    if data.callback_at is not None:
        lead.callback_at = data.callback_at
    lead.updated_at = at


def _filtered(query: Select[Any], filters: LeadFilters) -> Select[Any]:
    for field in ("status", "type", "channel", "client_key", "product_code", "advisor_id"):
        value = getattr(filters, field)
        if value is not None:
            query = query.where(getattr(Lead, field) == value)
    if filters.unassigned is not None:
        query = query.where(Lead.advisor_id.is_(None) if filters.unassigned else Lead.advisor_id.is_not(None))
    if filters.created_from is not None:
        query = query.where(Lead.created_at >= filters.created_from)
    if filters.created_to is not None:
        query = query.where(Lead.created_at < filters.created_to)
    return query


def list_leads(session: Session, *, filters: LeadFilters, page: int = 1, page_size: int = 50) -> Page[LeadRead]:
    """Newest first, one page at a time, with the total matching count."""
    if page < 1:
        raise InputError("page must be 1 or more")
    if not 1 <= page_size <= MAX_PAGE_SIZE:
        raise InputError(f"page_size must be between 1 and {MAX_PAGE_SIZE}")
    total = session.scalar(_filtered(select(func.count()).select_from(Lead), filters)) or 0
    rows = session.scalars(
        _filtered(select(Lead), filters)
        .order_by(Lead.created_at.desc(), Lead.id.desc())
        .offset((page - 1) * page_size)
        .limit(page_size)
    )
    return Page[LeadRead](items=[LeadRead.model_validate(r) for r in rows], total=total, page=page, page_size=page_size)


def get_lead(session: Session, *, lead_id: int) -> LeadRead:
    """One lead by id."""
    lead = session.get(Lead, lead_id)
    if lead is None:
        raise LeadNotFound(f"lead {lead_id} not found")
    return LeadRead.model_validate(lead)


def _locked(session: Session, lead_id: int) -> Lead:
    lead = session.get(Lead, lead_id, with_for_update=True)
    if lead is None:
        raise LeadNotFound(f"lead {lead_id} not found")
    return lead


def update_status(session: Session, *, lead_id: int, status: str, now: datetime | None = None) -> LeadRead:
    """Move a lead along its life cycle; setting the status it already has is a no-op, not an error."""
    if status not in TRANSITIONS:
        raise InputError(f"status {status!r} is not one of {', '.join(TRANSITIONS)}")
    lead = _locked(session, lead_id)
    if lead.status == status:
        return LeadRead.model_validate(lead)
    if status not in TRANSITIONS[lead.status]:
        allowed = ", ".join(sorted(TRANSITIONS[lead.status])) or "none (final)"
        raise TransitionNotAllowed(f"lead {lead_id} cannot go from {lead.status} to {status}; allowed: {allowed}")
    lead.status = status
    lead.updated_at = now or utcnow()
    outbox.enqueue(session, lead=lead, event_type="lead.updated", now=lead.updated_at)
    return LeadRead.model_validate(lead)


# Leads an opt-out withdraws: the bank asked to follow up a sale or a chat. A complaint stays open: the
# bank owes the client an answer whatever marketing they refuse.
MARKETING_TYPES: tuple[str, ...] = ("product_interest", "advisor_request", "callback_request")


def close_marketing_leads(
    session: Session, *, client_keys: Sequence[str], now: datetime | None = None
) -> list[LeadRead]:
    """Close every open marketing lead of these client keys (an opt-out: one story per client).

    Each closed lead gets its CRM event in the same session, so the CRM hears the client withdrew.
    """
    keys = [k for k in dict.fromkeys(client_keys) if k]
    if not keys:
        return []
    at = now or utcnow()
    rows = session.scalars(
        select(Lead)
        .where(Lead.client_key.in_(keys), Lead.type.in_(MARKETING_TYPES), Lead.status.in_(OPEN_STATUSES))
        .order_by(Lead.id)
        .with_for_update()
    )
    closed = []
    for lead in rows:
        lead.status, lead.updated_at = "closed", at
        outbox.enqueue(session, lead=lead, event_type="lead.updated", now=at)
        closed.append(LeadRead.model_validate(lead))
    return closed


def assign_advisor(session: Session, *, lead_id: int, advisor_id: str | None, now: datetime | None = None) -> LeadRead:
    """Give the lead to an advisor (their WeCom userid), or take it back with None."""
    lead = _locked(session, lead_id)
    if lead.advisor_id == advisor_id:
        return LeadRead.model_validate(lead)
    lead.advisor_id, lead.advisor_rule = advisor_id, "manual" if advisor_id else None
    lead.updated_at = now or utcnow()
    outbox.enqueue(session, lead=lead, event_type="lead.updated", now=lead.updated_at)
    return LeadRead.model_validate(lead)


def advisors(session: Session) -> list[str]:
    """Every advisor id some lead is assigned to (for filters), sorted."""
    rows = session.scalars(select(Lead.advisor_id).where(Lead.advisor_id.is_not(None)).distinct())
    return sorted(a for a in rows if a)


def open_leads_for_advisor(session: Session, *, advisor_id: str, limit: int = 20) -> list[LeadRead]:
    """An advisor's open leads, call-backs due soonest first, then the warmest."""
    rows = session.scalars(
        select(Lead)
        .where(Lead.advisor_id == advisor_id, Lead.status.in_(OPEN_STATUSES))
        .order_by(Lead.callback_at.is_(None), Lead.callback_at, Lead.score.desc(), Lead.id)
        .limit(limit)
    )
    return [LeadRead.model_validate(r) for r in rows]


CSV_COLUMNS = tuple(LeadRead.model_fields)


def masked(lead: LeadRead) -> LeadRead:
    """The lead with its contact name and phone masked (张*, +*********5678), for viewers."""
    from bot.core.masking import mask_name, mask_phone

    return lead.model_copy(
        update={
            "contact_name": mask_name(lead.contact_name) if lead.contact_name else None,
            "contact_phone": mask_phone(lead.contact_phone) if lead.contact_phone else None,
        }
    )


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_PHONE = re.compile(r"\+\d{6,15}")


def _cell(value: object, tz: tzinfo) -> object:
    """CSV-safe cell: local ISO times, and text that Excel would run as a formula defused with a quote."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.astimezone(tz).isoformat()
    if isinstance(value, str) and value.startswith(_FORMULA_START) and not _PHONE.fullmatch(value):
        return "'" + value  # evidence is the client's own words: never let it become an Excel formula
    return value


def export_csv(
    session: Session, *, filters: LeadFilters, tz: tzinfo = UTC, mask_contact: bool = False, chunk_rows: int = 500
) -> Iterator[str]:
    """The matching leads as CSV text chunks: a UTF-8 BOM first (Excel then reads Chinese), then rows.

    A generator, so a large export streams instead of being built in memory; the session must stay
    open until it is exhausted. `mask_contact` hides names and phones (for viewers).
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    yield "\ufeff" + buffer.getvalue()
    query = _filtered(select(Lead), filters).order_by(Lead.created_at, Lead.id)
    buffer.seek(0)
    buffer.truncate()
    for count, lead in enumerate(session.scalars(query.execution_options(yield_per=chunk_rows)), start=1):
        row = LeadRead.model_validate(lead)
        if mask_contact:
            row = masked(row)
        writer.writerow([_cell(getattr(row, c), tz) for c in CSV_COLUMNS])
        if count % chunk_rows == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    if buffer.tell():
        yield buffer.getvalue()
