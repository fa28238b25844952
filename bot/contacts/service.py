"""Contact preferences: who must not receive marketing, and each client's current risk level.

Callers own the transaction (`with transaction(sessions) as session: ...`); these functions only
flush, so an opt-out can be committed together with whatever else the turn writes.
"""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from bot.contacts.models import (
    RISK_LEVELS,
    DoNotContact,
    KeyKind,
    OptOut,
    OptOutRead,
    OptOutRecord,
    OptOutRecorded,
    RiskProfile,
    RiskProfileRead,
)
from bot.contacts.phones import normalize_phone
from bot.contacts.portable import insert_or_ignore
from bot.db import utcnow
from bot.errors import InputError

logger = logging.getLogger(__name__)


def _required(value: str, name: str) -> str:
    value = value.strip()
    if not value:
        raise InputError(f"{name} must not be empty")
    return value


def _phone_or_error(phone: str) -> str:
    normalized = normalize_phone(phone)
    if normalized is None:
        raise InputError(f"phone {phone!r} is not a phone number (expected E.164, e.g. +8613812345678)")
    return normalized


def opt_out(
    session: Session,
    *,
    client_key: str,
    phone: str | None = None,
    channel: str,
    evidence: str,
    recorded_by: str = "dialogue",
    now: datetime | None = None,
) -> OptOutRecorded:
    """Record a refusal of marketing for the client key and (when known) the phone; idempotent.

    Effective on every channel and campaign at once because every check reads the same rows. With a
    phone, the number is blocked in every campaign; without one, only this channel identity is (the
    result's `covers` says which, and `coverage_text` words it for the client). The first refusal per
    key is kept as evidence; a repeat that blocks no new key changes nothing. An unparseable phone is
    logged and skipped rather than raised, so the client-key refusal is never lost over a typo.
    """
    client_key = _required(client_key, "client_key")
    channel = _required(channel, "channel")
    keys: list[tuple[KeyKind, str]] = [("client", client_key)]
    normalized = normalize_phone(phone) if phone else None
    if phone and normalized is None:
        # The raw text is not logged: it is the client's words and may hold part of a real number.
        logger.warning("opt-out for %s: the phone given is not a phone number; recorded by client key only", client_key)
    if normalized:
        keys.append(("phone", normalized))
    at = now or utcnow()
    added = False
    for kind, value in keys:
        # Insert-or-ignore, so a concurrent opt-out of the same key cannot fail this one.
        values = {
            "key_kind": kind, "key_value": value, "client_key": client_key, "phone": normalized,
            "channel": channel, "evidence": evidence, "opted_out_at": at,
        }  # fmt: skip
        added |= insert_or_ignore(session, DoNotContact, values, conflict=("key_kind", "key_value"))
    record = None
    if added:
        row = OptOut(
            client_key=client_key, channel=channel, phone=normalized, evidence=evidence,
            recorded_by=recorded_by[:64], opted_out_at=at,
        )  # fmt: skip
        session.add(row)
        session.flush()
        record = OptOutRecord.model_validate(row)
    rows = [OptOutRead.model_validate(_find(session, kind, value)) for kind, value in keys]
    # A number blocked by an earlier refusal of the same identity still counts.
    blocked_phone = normalized or session.scalar(
        select(DoNotContact.key_value)
        .where(DoNotContact.key_kind == "phone", DoNotContact.client_key == client_key)
        .order_by(DoNotContact.id)
        .limit(1)
    )
    return OptOutRecorded(
        client_key=client_key,
        channel=channel,
        phone=blocked_phone,
        covers="phone" if blocked_phone else "identity",
        keys=rows,
        record=record,
    )


def _find(session: Session, kind: KeyKind, value: str) -> DoNotContact | None:
    return session.scalar(select(DoNotContact).where(DoNotContact.key_kind == kind, DoNotContact.key_value == value))


def is_do_not_contact(session: Session, *, client_key: str | None = None, phone: str | None = None) -> bool:
    """True when the client key or the phone has refused marketing (either one is enough).

    Check with both keys when you have both: a refusal given in chat is keyed by client, one given on
    a call by phone, and a client who refused anywhere must not be called anywhere.
    """
    conditions = []
    if client_key is not None:
        conditions.append(
            and_(DoNotContact.key_kind == "client", DoNotContact.key_value == _required(client_key, "client_key"))
        )
    if phone is not None:
        conditions.append(and_(DoNotContact.key_kind == "phone", DoNotContact.key_value == _phone_or_error(phone)))
    if not conditions:
        raise InputError("is_do_not_contact needs a client_key or a phone")
    found = session.scalar(select(DoNotContact.id).where(or_(*conditions)).limit(1))
    return found is not None


def may_market(session: Session, *, client_key: str | None = None, phone: str | None = None) -> bool:
    """May marketing reach this client? False after any recorded refusal.

    The one question marketing code should ask, so stricter rules (e.g. "no explicit consent counts as
    refusal", which campaigns apply to their target lists) can be added here without touching callers.
    """
    return not is_do_not_contact(session, client_key=client_key, phone=phone)


def do_not_contact_phones(session: Session) -> set[str]:
    """Every refused phone (E.164), for removing numbers from a campaign's list before it is dialled."""
    return set(session.scalars(select(DoNotContact.key_value).where(DoNotContact.key_kind == "phone")))


def do_not_contact_clients(session: Session) -> set[str]:
    """Every refused client key, for campaigns that plan by client id."""
    return set(session.scalars(select(DoNotContact.key_value).where(DoNotContact.key_kind == "client")))


def save_risk_profile(
    session: Session,
    *,
    client_key: str,
    level: str,
    score: int,
    answers: dict[str, Any],
    assessed_at: datetime,
) -> RiskProfileRead:
    """Store an assessment; earlier ones are kept as history and the latest `assessed_at` wins."""
    if level not in RISK_LEVELS:
        raise InputError(f"risk level {level!r} is not one of {', '.join(RISK_LEVELS)}")
    if assessed_at.tzinfo is None:
        raise InputError("assessed_at must be timezone-aware (e.g. datetime.now(UTC))")
    row = RiskProfile(
        client_key=_required(client_key, "client_key"), level=level, score=score, answers=dict(answers),
        assessed_at=assessed_at, created_at=utcnow(),
    )  # fmt: skip
    session.add(row)
    session.flush()
    return RiskProfileRead.model_validate(row)


def latest_risk_profile(session: Session, *, client_key: str) -> RiskProfileRead | None:
    """The client's most recent assessment, expired or not (for audit and hand-off summaries)."""
    row = session.scalar(
        select(RiskProfile)
        .where(RiskProfile.client_key == client_key)
        .order_by(RiskProfile.assessed_at.desc(), RiskProfile.id.desc())
        .limit(1)
    )
    return RiskProfileRead.model_validate(row) if row else None


def current_risk_level(session: Session, *, client_key: str, today: date, valid_days: int) -> str | None:
    """The latest level while it is valid, else None (never assessed, or expired: ask again).

    Valid on the assessment day and the `valid_days - 1` days after it. The assessment day is taken on
    the UTC calendar; east of UTC (China) that can end validity a day early, never a day late.
    """
    profile = latest_risk_profile(session, client_key=client_key)
    if profile is None:
        return None
    if today >= profile.assessed_at.date() + timedelta(days=valid_days):
        return None
    return profile.level
