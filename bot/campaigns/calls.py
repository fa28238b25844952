"""The contract the voice webhooks use: who is on this call, and what happened to it.

All functions are synchronous, take the caller's Session and only flush (the caller commits). They are
idempotent: Twilio retries status callbacks and may deliver them out of order, so a duplicate or an
older status changes nothing, and outcome flags only ever go from False to True.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from bot.campaigns.models import ATTEMPT_RANK, RETRYABLE, TERMINAL, Campaign, CampaignAttempt, CampaignClient
from bot.campaigns.rules import CampaignRules
from bot.contacts.service import opt_out
from bot.db import utcnow
from bot.errors import InputError
from bot.language import Language

logger = logging.getLogger(__name__)
# Statuses a provider may report; our own states (dialing, unknown, refused) are never accepted from outside.
PROVIDER_STATUSES = frozenset(
    {"queued", "initiated", "ringing", "in-progress", "completed", "busy", "no-answer", "failed", "canceled"}
)


@dataclass(frozen=True)
class CallContext:
    """What the answer webhook needs to open the call: the client, the script, the experiment arm."""

    attempt_id: int
    campaign_id: int
    client_id: str
    name: str
    phone: str
    language: str
    risk_level: str | None
    advisor_id: str | None
    script_id: str | None
    segment: str | None
    arm: str

    @property
    def lang(self) -> Language:
        """The call's language as the dialogue knows it (anything but English is Mandarin)."""
        return "en" if self.language == "en" else "zh"


def call_context(session: Session, *, attempt_id: int) -> CallContext | None:
    """The context of one attempt, or None when there is no such attempt."""
    row = session.execute(
        select(CampaignAttempt, CampaignClient)
        .join(CampaignClient, CampaignClient.id == CampaignAttempt.campaign_client_id)
        .where(CampaignAttempt.id == attempt_id)
    ).first()
    if row is None:
        return None
    attempt, client = row
    return CallContext(
        attempt_id=attempt.id,
        campaign_id=attempt.campaign_id,
        client_id=client.client_id,
        name=client.name,
        phone=client.phone,
        language=client.language,
        risk_level=client.risk_level,
        advisor_id=client.advisor_id,
        script_id=client.script_id,
        segment=client.segment,
        arm=client.arm or "",
    )


def record_call_status(
    session: Session,
    *,
    attempt_id: int,
    call_sid: str,
    status: str,
    answered_by: str | None = None,
    duration_s: int | None = None,
    now: datetime | None = None,
) -> bool:
    """Apply one status callback; True when it changed something.

    A status never moves an attempt backwards, a terminal attempt never changes state, and a callback
    for another call (CallSid mismatch) is ignored. Busy, no-answer and failed schedule the next attempt
    (backoff, then the next calling window) while attempts remain.
    """
    status = status.strip().lower()
    if status not in PROVIDER_STATUSES:
        logger.warning("attempt %s: ignoring unknown call status %r", attempt_id, status)
        return False
    at = now or utcnow()
    attempt = locked_attempt(session, attempt_id)
    if attempt is None:
        return False
    if attempt.call_sid is not None and attempt.call_sid != call_sid:
        logger.warning(
            "attempt %s: status for call %s ignored (the attempt is call %s)", attempt_id, call_sid, attempt.call_sid
        )
        return False
    changed = False
    if attempt.call_sid is None:
        attempt.call_sid = call_sid
        changed = True
    if answered_by and attempt.answered_by is None:
        attempt.answered_by = answered_by
        changed = True
    if duration_s is not None and attempt.duration_s is None and status in TERMINAL:
        attempt.duration_s = duration_s
        changed = True
    if attempt.state not in TERMINAL and ATTEMPT_RANK[status] > ATTEMPT_RANK[attempt.state]:
        was_unknown = attempt.state == "unknown"
        attempt.state = status
        attempt.placed_at = attempt.placed_at or at
        changed = True
        if status in TERMINAL:
            attempt.ended_at = at
            settle_client(session, attempt)
        elif was_unknown and status == "in-progress":
            settle_client(session, attempt)  # a call we had given up on was answered after all
    if changed:
        attempt.updated_at = at
        session.flush()
    return changed


def record_call_outcome(
    session: Session,
    *,
    attempt_id: int,
    engaged: bool = False,
    opted_out: bool = False,
    voicemail: bool = False,
    transferred: bool = False,
    callback_at: datetime | None = None,
    now: datetime | None = None,
) -> None:
    """Merge what the conversation produced into the attempt (flags only turn on; the first callback time wins).

    An opt-out also goes on the do-not-contact list (idempotent, so the webhook may record it too).
    """
    if callback_at is not None and callback_at.tzinfo is None:
        raise InputError("callback_at must be timezone-aware")
    attempt = locked_attempt(session, attempt_id)
    if attempt is None:
        logger.warning("outcome for unknown call attempt %s ignored", attempt_id)
        return
    before = (attempt.engaged, attempt.opted_out, attempt.voicemail, attempt.transferred, attempt.callback_at)
    attempt.engaged = attempt.engaged or engaged
    attempt.opted_out = attempt.opted_out or opted_out
    attempt.voicemail = attempt.voicemail or voicemail
    attempt.transferred = attempt.transferred or transferred
    attempt.callback_at = attempt.callback_at or callback_at
    after = (attempt.engaged, attempt.opted_out, attempt.voicemail, attempt.transferred, attempt.callback_at)
    if before == after:
        return
    at = now or utcnow()
    attempt.updated_at = at
    if opted_out:
        evidence = f"campaign {attempt.campaign_id} call attempt {attempt.id} ({attempt.call_sid or 'no sid'})"
        opt_out(
            session, client_key=attempt.client_id, phone=attempt.phone, channel="voice", evidence=evidence,
            recorded_by="voice", now=at,
        )  # fmt: skip
    if attempt.state in TERMINAL or attempt.opted_out:
        settle_client(session, attempt)
    session.flush()


def locked_attempt(session: Session, attempt_id: int) -> CampaignAttempt | None:
    """The attempt, read after taking its row's write lock (a no-op UPDATE).

    Twilio may deliver two callbacks for one call at once, while the dialer records the CallSid; reading
    under the lock means no writer decides on a stale state (SQLite: the database write lock; PostgreSQL:
    the row lock), so a terminal state can never be overwritten by an older one.
    """
    session.execute(
        update(CampaignAttempt)
        .where(CampaignAttempt.id == attempt_id)
        .values(id=CampaignAttempt.id)
        .execution_options(synchronize_session=False)
    )
    return session.get(CampaignAttempt, attempt_id, populate_existing=True)


def settle_client(session: Session, attempt: CampaignAttempt) -> None:
    """Decide the client's next step from this attempt; deterministic, so applying it twice is harmless."""
    client = session.get(CampaignClient, attempt.campaign_client_id)
    campaign = session.get(Campaign, attempt.campaign_id)
    if client is None or campaign is None:
        return
    if client.attempts != attempt.attempt_no:
        # An older attempt: it only matters when a call we had written off turns out answered.
        if attempt.state in ("in-progress", "completed") and client.call_state == "pending":
            stop_client(client, "answered")
        return
    if attempt.opted_out:
        stop_client(client, "opted_out")
    elif attempt.state == "in-progress":
        if client.call_state == "pending":  # written off as unknown, yet answered: no retry
            stop_client(client, "answered")
        # otherwise still on the call; the terminal status settles it
    elif attempt.callback_at is not None and attempt.state in TERMINAL:
        client.call_state, client.next_call_at, client.stop_reason = "pending", attempt.callback_at, None
        client.callback_at = attempt.callback_at
    elif attempt.state == "completed":
        stop_client(client, "voicemail" if attempt.voicemail else "answered")
    elif attempt.state in RETRYABLE:
        rules = CampaignRules.model_validate(campaign.rules)
        if client.attempts >= rules.max_attempts:
            stop_client(client, "exhausted")
        else:
            base = attempt.ended_at or attempt.updated_at
            client.call_state, client.stop_reason = "pending", None
            client.next_call_at = rules.window.next_allowed(base + rules.backoff(attempt.attempt_no), client.timezone)
    elif attempt.state in TERMINAL:
        stop_client(client, attempt.state)


def stop_client(client: CampaignClient, reason: str) -> None:
    client.call_state, client.next_call_at, client.stop_reason = "done", None, reason
