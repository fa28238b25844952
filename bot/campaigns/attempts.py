"""The dialer's durable steps, each one short synchronous transaction (the async loop runs them in threads).

    pending client --claim--> attempt `dialing` (committed) --provider--> `placed` (call_sid) --callbacks--> terminal
                                        \\--crash--> `unknown` on restart (counted, never re-dialled blindly)

Every check that can change between planning and dialling is made again in `claim`, right before the
call: the do-not-contact list, the provider's refusal, the cross-campaign frequency cap, the calling
window in the client's time zone and the attempt limit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from bot.campaigns.calls import locked_attempt, settle_client, stop_client
from bot.campaigns.lifecycle import DIALABLE
from bot.campaigns.models import ATTEMPT_RANK, LIVE, Campaign, CampaignAttempt, CampaignClient
from bot.campaigns.provider import CallProvider, PlacedCall
from bot.campaigns.rules import CampaignRules
from bot.contacts.service import is_do_not_contact
from bot.errors import InputError


@dataclass(frozen=True)
class Claimed:
    """An attempt committed in state `dialing`: safe to hand to the provider exactly once."""

    attempt_id: int
    attempt_no: int
    client_id: str
    phone: str
    idempotency_key: str


@dataclass(frozen=True)
class Skipped:
    """Why a due client was not dialled now (`outside_hours` only postpones; the rest stop the client)."""

    reason: str


def acquire_lease(session: Session, *, campaign_id: int, owner: str, now: datetime, ttl: timedelta) -> None:
    """Take or renew the campaign's dialer lease; refuse while another live run holds it.

    A second dialer would write off the first one's in-flight attempts as unknown and dial those clients
    again, so only one may run; a crashed run's lease simply expires after `ttl`.
    """
    won = session.execute(
        update(Campaign)
        .where(
            Campaign.id == campaign_id,
            or_(Campaign.lease_owner.is_(None), Campaign.lease_owner == owner, Campaign.lease_until < now),
        )
        .values(lease_owner=owner, lease_until=now + ttl)
        .execution_options(synchronize_session=False)
    )
    if getattr(won, "rowcount", 0) != 1:
        campaign = session.get(Campaign, campaign_id)
        if campaign is None:
            raise LookupError(f"no campaign {campaign_id}")
        raise InputError(
            f"campaign {campaign_id} is being dialled by another run (lease until {campaign.lease_until:%H:%M:%S} UTC);"
            " wait for it to finish, or for its lease to expire if it crashed"
        )


def release_lease(session: Session, *, campaign_id: int, owner: str) -> None:
    session.execute(
        update(Campaign)
        .where(Campaign.id == campaign_id, Campaign.lease_owner == owner)
        .values(lease_owner=None, lease_until=None)
        .execution_options(synchronize_session=False)
    )


def rules_of(session: Session, campaign_id: int) -> CampaignRules:
    campaign = session.get(Campaign, campaign_id)
    if campaign is None:
        raise LookupError(f"no campaign {campaign_id}")
    return CampaignRules.model_validate(campaign.rules)


def recover(session: Session, *, campaign_id: int, now: datetime) -> int:
    """Attempts left `dialing` by a crash become `unknown`: counted, retried only as a new attempt after backoff.

    The provider may or may not have placed the call; dialling the same attempt again could ring the
    client twice, so it never is. A late status callback can still tell us what happened (calls.py).
    """
    stuck = list(
        session.scalars(
            select(CampaignAttempt.id).where(
                CampaignAttempt.campaign_id == campaign_id, CampaignAttempt.state == "dialing"
            )
        )
    )
    recovered = 0
    for attempt_id in stuck:
        attempt = locked_attempt(session, attempt_id)
        if attempt is None or attempt.state != "dialing":
            continue  # a status callback got there first: the call's fate is known
        attempt.state, attempt.ended_at, attempt.updated_at = "unknown", now, now
        attempt.error = "the dialer stopped before the provider answered; not re-dialled"
        settle_client(session, attempt)
        recovered += 1
    session.flush()
    return recovered


def due_clients(session: Session, *, campaign_id: int, now: datetime, limit: int) -> list[int]:
    """Row ids of pending clients whose time has come, highest priority first."""
    return list(
        session.scalars(
            select(CampaignClient.id)
            .where(
                CampaignClient.campaign_id == campaign_id,
                CampaignClient.call_state == "pending",
                CampaignClient.next_call_at <= now,
            )
            .order_by(CampaignClient.priority.desc(), CampaignClient.next_call_at, CampaignClient.id)
            .limit(limit)
        )
    )


def count_due(session: Session, *, campaign_id: int, now: datetime) -> int:
    return int(
        session.scalar(
            select(func.count(CampaignClient.id)).where(
                CampaignClient.campaign_id == campaign_id,
                CampaignClient.call_state == "pending",
                CampaignClient.next_call_at <= now,
            )
        )
        or 0
    )


def count_live(session: Session, *, campaign_id: int, now: datetime, stale_after: timedelta) -> int:
    """Calls in flight (a concurrency slot each); one silent for `stale_after` no longer holds a slot."""
    return int(
        session.scalar(
            select(func.count(CampaignAttempt.id)).where(
                CampaignAttempt.campaign_id == campaign_id,
                CampaignAttempt.state.in_(LIVE),
                CampaignAttempt.updated_at > now - stale_after,
            )
        )
        or 0
    )


def loop_state(session: Session, *, campaign_id: int, now: datetime, stale_after: timedelta) -> tuple[int, str]:
    """Calls in flight and the campaign's status (an operator may pause it while the dialer runs)."""
    status = session.scalar(select(Campaign.status).where(Campaign.id == campaign_id)) or ""
    return count_live(session, campaign_id=campaign_id, now=now, stale_after=stale_after), status


def scheduled(session: Session, *, campaign_id: int, after: datetime, limit: int = 20) -> list[dict[str, object]]:
    """Pending clients not due yet, by planned call time and time zone (soonest first): what comes next."""
    rows = session.execute(
        select(CampaignClient.next_call_at, CampaignClient.timezone, func.count(CampaignClient.id))
        .where(
            CampaignClient.campaign_id == campaign_id,
            CampaignClient.call_state == "pending",
            CampaignClient.next_call_at > after,
        )
        .group_by(CampaignClient.next_call_at, CampaignClient.timezone)
        .order_by(CampaignClient.next_call_at, CampaignClient.timezone)
        .limit(limit)
    ).all()
    return [{"at": at, "timezone": tz, "clients": int(n)} for at, tz, n in rows]


def remaining(session: Session, *, campaign_id: int) -> int:
    return int(
        session.scalar(
            select(func.count(CampaignClient.id)).where(
                CampaignClient.campaign_id == campaign_id, CampaignClient.call_state.in_(("pending", "active"))
            )
        )
        or 0
    )


def recently_called_elsewhere(session: Session, client: CampaignClient, *, since: datetime) -> bool:
    """Did another campaign dial this client (by id or phone) since `since`?"""
    found = session.scalar(
        select(CampaignAttempt.id)
        .where(
            CampaignAttempt.campaign_id != client.campaign_id,
            CampaignAttempt.dialing_at >= since,
            or_(CampaignAttempt.client_id == client.client_id, CampaignAttempt.phone == client.phone),
        )
        .limit(1)
    )
    return found is not None


def check(
    session: Session, client: CampaignClient, *, rules: CampaignRules, provider: CallProvider, now: datetime
) -> str | None:
    """The reason this client must not be dialled now, or None. Read-only (dry runs use it too)."""
    if client.call_state != "pending" or client.next_call_at is None or client.next_call_at > now:
        return "not_due"
    if session.scalar(select(Campaign.status).where(Campaign.id == client.campaign_id)) not in DIALABLE:
        return "paused"  # paused (or archived) since the dialer started: checked again at every claim
    if not client.consent:
        return "no_consent"
    if is_do_not_contact(session, client_key=client.client_id, phone=client.phone):
        return "do_not_contact"
    if provider.refusal_reason(client.phone):
        return "provider_refused"
    if recently_called_elsewhere(session, client, since=now - timedelta(days=rules.frequency_cap_days)):
        return "frequency_cap"
    if client.attempts >= rules.max_attempts and client.callback_at is None:
        return "exhausted"
    if not rules.window.allows(now, client.timezone):
        return "outside_hours"
    return None


def claim(
    session: Session, *, client_row_id: int, rules: CampaignRules, provider: CallProvider, now: datetime
) -> Claimed | Skipped:
    """Re-check the client and, if it may be called now, write its next attempt as `dialing`."""
    client = session.get(CampaignClient, client_row_id)
    if client is None:
        return Skipped("not_due")
    reason = check(session, client, rules=rules, provider=provider, now=now)
    if reason == "outside_hours":
        client.next_call_at = rules.window.next_allowed(now, client.timezone)
        return Skipped(reason)
    if reason in ("not_due", "paused"):
        return Skipped(reason)
    if reason is not None:
        stop_client(client, reason)
        return Skipped(reason)
    attempt_no = client.attempts + 1
    # A conditional update: two dialers racing for one client cannot both win it.
    won = session.execute(
        update(CampaignClient)
        .where(
            CampaignClient.id == client.id,
            CampaignClient.call_state == "pending",
            CampaignClient.attempts == client.attempts,
        )
        .values(call_state="active", attempts=attempt_no, callback_at=None)
        .execution_options(synchronize_session=False)
    )
    if getattr(won, "rowcount", 0) != 1:
        return Skipped("not_due")
    key = f"{client.campaign_id}:{client.client_id}:{attempt_no}"
    attempt = CampaignAttempt(
        campaign_id=client.campaign_id, campaign_client_id=client.id, client_id=client.client_id, phone=client.phone,
        attempt_no=attempt_no, idempotency_key=key, state="dialing", dialing_at=now, updated_at=now,
        engaged=False, opted_out=False, voicemail=False, transferred=False,
    )  # fmt: skip
    session.add(attempt)
    session.flush()
    return Claimed(attempt.id, attempt_no, client.client_id, client.phone, key)


def mark_placed(session: Session, *, attempt_id: int, placed: PlacedCall, now: datetime) -> None:
    """The provider accepted the call; a status callback that arrived first is never overwritten."""
    attempt = locked_attempt(session, attempt_id)
    if attempt is None:
        return
    attempt.call_sid = attempt.call_sid or placed.call_sid
    attempt.placed_at = attempt.placed_at or now
    if ATTEMPT_RANK[attempt.state] < ATTEMPT_RANK["placed"]:
        attempt.state, attempt.updated_at = "placed", now


def mark_failed(session: Session, *, attempt_id: int, error: str, refused: bool, now: datetime) -> None:
    """The provider refused the number (stop) or failed (a retry after backoff, while attempts remain)."""
    attempt = locked_attempt(session, attempt_id)
    if attempt is None or ATTEMPT_RANK[attempt.state] >= ATTEMPT_RANK["completed"]:
        return
    attempt.state = "refused" if refused else "failed"
    attempt.error, attempt.ended_at, attempt.updated_at = error[:2000], now, now
    settle_client(session, attempt)
