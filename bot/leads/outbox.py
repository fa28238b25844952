"""The transactional outbox: lead events written with the lead, delivered later by OutboxWorker.

Writing the event in the same transaction as the lead means a lead is never saved without its CRM
event, and a CRM outage only delays delivery. Rows are claimed with a conditional UPDATE (a lease),
so several app processes may run workers without sending the same row twice at once; the CRM still
gets `X-Idempotency-Key` because a crash between "sent" and "marked delivered" resends.
"""

from __future__ import annotations

import json
import random
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, exists, func, select, update
from sqlalchemy.orm import Session, aliased

from bot.leads.models import EventType, Lead, LeadOutbox, LeadRead


@dataclass(frozen=True)
class ClaimedEvent:
    """An outbox row this worker holds a lease on and should send now."""

    id: int
    event_id: str
    payload: str
    attempts: int


def enqueue(session: Session, *, lead: Lead, event_type: EventType, now: datetime) -> LeadOutbox:
    """Add the CRM event for this lead's current state (call inside the lead's transaction)."""
    session.flush()  # the lead needs its id (and server-side values) before it is serialised
    event_id = str(uuid.uuid4())
    body = {
        "event_id": event_id,
        "event": event_type,
        "occurred_at": now.isoformat(),
        "lead": LeadRead.model_validate(lead).model_dump(mode="json"),
    }
    row = LeadOutbox(
        event_id=event_id, lead_id=lead.id, event_type=event_type,
        payload=json.dumps(body, ensure_ascii=False, sort_keys=True, separators=(",", ":")),
        created_at=now, attempts=0, next_attempt_at=now,
    )  # fmt: skip
    session.add(row)
    return row


def due_ids(session: Session, *, now: datetime, limit: int) -> list[int]:
    """Rows due now, oldest first, and only each lead's oldest undelivered event.

    Holding back a lead's later events until its earlier one is acknowledged keeps the CRM from seeing
    "updated" before "created" when the first delivery failed.
    """
    earlier = aliased(LeadOutbox)
    blocked = exists().where(
        and_(earlier.lead_id == LeadOutbox.lead_id, earlier.delivered_at.is_(None), earlier.id < LeadOutbox.id)
    )
    query = (
        select(LeadOutbox.id)
        .where(LeadOutbox.delivered_at.is_(None), LeadOutbox.next_attempt_at <= now, ~blocked)
        .order_by(LeadOutbox.id)
        .limit(limit)
    )
    return list(session.scalars(query))


def claim(session: Session, *, outbox_id: int, now: datetime, lease_s: float) -> ClaimedEvent | None:
    """Take a lease on one due row (None if another worker took it first) and count the attempt."""
    result = session.execute(
        update(LeadOutbox)
        .where(LeadOutbox.id == outbox_id, LeadOutbox.delivered_at.is_(None), LeadOutbox.next_attempt_at <= now)
        .values(next_attempt_at=now + timedelta(seconds=lease_s), attempts=LeadOutbox.attempts + 1)
        .execution_options(synchronize_session=False)
    )
    if getattr(result, "rowcount", 0) != 1:
        return None
    row = session.execute(
        select(LeadOutbox.event_id, LeadOutbox.payload, LeadOutbox.attempts).where(LeadOutbox.id == outbox_id)
    ).one()
    return ClaimedEvent(id=outbox_id, event_id=row.event_id, payload=row.payload, attempts=row.attempts)


def mark_delivered(session: Session, *, outbox_id: int, now: datetime) -> None:
    """The CRM acknowledged (2xx): never send this row again (last_error stays, as history)."""
    session.execute(
        update(LeadOutbox)
        .where(LeadOutbox.id == outbox_id)
        .values(delivered_at=now)
        .execution_options(synchronize_session=False)
    )


def mark_failed(session: Session, *, outbox_id: int, retry_at: datetime, error: str) -> None:
    """Delivery failed: keep the row and try again at `retry_at`."""
    session.execute(
        update(LeadOutbox)
        .where(LeadOutbox.id == outbox_id, LeadOutbox.delivered_at.is_(None))
        .values(next_attempt_at=retry_at, last_error=error[:2000])
        .execution_options(synchronize_session=False)
    )


def pending_count(session: Session) -> int:
    """Events not yet acknowledged by the CRM (for health checks and tests)."""
    return session.scalar(select(func.count()).select_from(LeadOutbox).where(LeadOutbox.delivered_at.is_(None))) or 0


def backoff_delay(attempts: int, *, initial_s: float, cap_s: float, rng: Callable[[], float] = random.random) -> float:
    """Seconds to wait after the `attempts`-th failure: exponential, capped, with "equal jitter".

    Half the capped delay is fixed and half random, so retries from many rows spread out (no thundering
    herd when the CRM comes back) but never collapse to zero.
    """
    exponent = min(max(attempts - 1, 0), 62)  # 2**63 would overflow a float multiplication soon anyway
    delay = min(cap_s, initial_s * 2.0**exponent)
    return delay / 2 + rng() * delay / 2
