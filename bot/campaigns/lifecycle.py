"""A campaign's life: planned → running → completed, paused and resumed in between, archived at the end.

    planned ──run──► running ──(nobody left to call)──► completed ──archive──► archived
       │  ▲            │  ▲                                                     ▲
     pause│resume    pause│resume                                                │
       ▼  │            ▼  │                                                     │
       paused ─────────────────────────────────archive─────────────────────────┘

The dialer drives running and completed; operators pause, resume, archive and delete (`advisor
campaign pause|resume|archive|delete`). A running dialer sees a pause before its next call (every claim
re-reads the status), lets the calls in flight finish and stops; running a completed campaign again
only picks up callbacks booked since. Delete is only for campaigns that never dialled anybody (a mistaken
import): once a call was made, its attempts are the frequency cap's memory and the audit trail, so
such a campaign is archived instead.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from bot.campaigns.models import Campaign, CampaignAttempt, CampaignClient, CampaignOutcome, CampaignStatus
from bot.errors import InputError, NotFound

# Operator actions: the statuses each one may start from, and where it leads.
_ACTIONS: dict[str, tuple[frozenset[str], CampaignStatus]] = {
    "pause": (frozenset({"planned", "running"}), "paused"),
    "archive": (frozenset({"planned", "paused", "completed"}), "archived"),
}
# A completed campaign may run again: a late status callback can book a callback for one of its clients.
DIALABLE = frozenset({"planned", "running", "completed"})


def _campaign(session: Session, campaign_id: int) -> Campaign:
    campaign = session.get(Campaign, campaign_id, with_for_update=True)
    if campaign is None:
        raise NotFound(f"no campaign {campaign_id}")
    return campaign


def _dialled(session: Session, campaign_id: int) -> int:
    return int(
        session.scalar(select(func.count(CampaignAttempt.id)).where(CampaignAttempt.campaign_id == campaign_id)) or 0
    )


def _apply(session: Session, campaign_id: int, action: str) -> Campaign:
    campaign = _campaign(session, campaign_id)
    allowed, target = _ACTIONS[action]
    if campaign.status == target:
        return campaign
    if campaign.status not in allowed:
        raise InputError(
            f"campaign {campaign_id} is {campaign.status}; {action} needs it {' or '.join(sorted(allowed))}"
        )
    campaign.status = target
    return campaign


def pause(session: Session, *, campaign_id: int) -> Campaign:
    """Stop dialling: a running dialer finishes the calls in flight and exits; `resume` continues."""
    return _apply(session, campaign_id, "pause")


def resume(session: Session, *, campaign_id: int) -> Campaign:
    """Back to running (or planned, if it never dialled); the next `campaign run` picks up where it stopped."""
    campaign = _campaign(session, campaign_id)
    if campaign.status in DIALABLE:
        return campaign
    if campaign.status != "paused":
        raise InputError(f"campaign {campaign_id} is {campaign.status}; only a paused campaign can be resumed")
    campaign.status = "running" if _dialled(session, campaign_id) else "planned"
    return campaign


def archive(session: Session, *, campaign_id: int, now: datetime) -> Campaign:
    """Hide a finished, paused or never-started campaign from the lists; its data stay for the cap and audit."""
    campaign = _campaign(session, campaign_id)
    if campaign.lease_owner is not None and campaign.lease_until is not None and campaign.lease_until > now:
        raise InputError(f"campaign {campaign_id} is being dialled; pause it and wait for the run to stop")
    return _apply(session, campaign_id, "archive")


def delete_campaign(session: Session, *, campaign_id: int) -> str:
    """Remove a campaign that never dialled anybody, with its imported rows; returns its name."""
    campaign = _campaign(session, campaign_id)
    if _dialled(session, campaign_id):
        raise InputError(
            f"campaign {campaign_id} has call attempts (the frequency cap and the audit need them): "
            f"archive it instead (advisor campaign archive {campaign_id})"
        )
    name = campaign.name
    # Explicit, not just ON DELETE CASCADE: SQLite only cascades with foreign keys switched on.
    session.execute(delete(CampaignOutcome).where(CampaignOutcome.campaign_id == campaign_id))
    session.execute(delete(CampaignClient).where(CampaignClient.campaign_id == campaign_id))
    session.delete(campaign)
    return name


def started(campaign: Campaign) -> None:
    """The dialer took the campaign: it is running; a paused or archived one is refused."""
    if campaign.status not in DIALABLE:
        hint = f"resume it first (advisor campaign resume {campaign.id})" if campaign.status == "paused" else ""
        raise InputError(f"campaign {campaign.id} is {campaign.status}: not dialling; {hint}".rstrip("; "))
    campaign.status = "running"


def finished(campaign: Campaign, *, remaining: int) -> None:
    """After a run: completed when nobody is left to call; a paused campaign stays paused."""
    if campaign.status == "running" and remaining == 0:
        campaign.status = "completed"
