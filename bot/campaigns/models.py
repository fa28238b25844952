"""Tables of the campaign domain: campaigns, their imported clients (the plan), call attempts, outcomes.

The plan lives on `campaign_clients`: every imported row is kept (rejected rows with their reasons),
eligible treatment clients carry `call_state='pending'` and `next_call_at` (their planned attempt).
A `campaign_attempts` row is written, state `dialing`, and committed before the provider is asked to
call; its idempotency key (campaign, client, attempt_no) is unique, so one attempt is dialled once.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from sqlalchemy import JSON, Boolean, Date, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bot.contacts.portable import UTCDateTime
from bot.db import Base

RowStatus = Literal["rejected", "excluded", "eligible"]
# A campaign's life (bot/campaigns/lifecycle.py): planned -> running -> completed, paused in between,
# archived at the end (hidden from lists, kept for the frequency cap and the audit).
CampaignStatus = Literal["planned", "running", "paused", "completed", "archived"]
OutcomeSource = Literal["imported", "callback"]
# none: never called (rejected, excluded, control); pending: due at next_call_at; active: an attempt is
# in flight; done: finished (answered, exhausted, refused, opted out...; see stop_reason).
CallState = Literal["none", "pending", "active", "done"]
CONTROL = "control"

# Attempt states, in the order a call moves through them; terminal ones never change again.
ATTEMPT_RANK: dict[str, int] = {
    "unknown": 0,  # left in `dialing` by a crash: counted as an attempt, never re-dialled blindly
    "dialing": 1,
    "placed": 2,
    "queued": 2,
    "initiated": 2,
    "ringing": 3,
    "in-progress": 4,
    "completed": 5,
    "busy": 5,
    "no-answer": 5,
    "failed": 5,
    "canceled": 5,
    "refused": 5,
}
TERMINAL = frozenset({"completed", "busy", "no-answer", "failed", "canceled", "refused"})
RETRYABLE = frozenset({"busy", "no-answer", "failed", "unknown"})
LIVE = ("dialing", "placed", "queued", "initiated", "ringing", "in-progress")


class Campaign(Base):
    """One campaign: its experiment seed, the rules it was planned with, and its import summary."""

    __tablename__ = "campaigns"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(128))
    status: Mapped[str] = mapped_column(String(16))
    seed: Mapped[int] = mapped_column(Integer)
    control_share: Mapped[float] = mapped_column(Float)
    # arm name -> approved script id (base id; the client's language picks `<base>-<lang>`)
    variants: Mapped[dict[str, Any]] = mapped_column(JSON)
    rules: Mapped[dict[str, Any]] = mapped_column(JSON)
    summary: Mapped[dict[str, Any]] = mapped_column(JSON)
    source_file: Mapped[str] = mapped_column(String(512))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    planned_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # One dialer per campaign: a run holds this lease and renews it; a crashed run's lease expires.
    lease_owner: Mapped[str | None] = mapped_column(String(64))
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime())


class CampaignClient(Base):
    """One imported row: the client, the validation/eligibility verdict, and the plan for them."""

    __tablename__ = "campaign_clients"
    __table_args__ = (
        UniqueConstraint("campaign_id", "row_no", name="uq_campaign_clients_row"),
        Index("ix_campaign_clients_client", "campaign_id", "client_id"),
        Index("ix_campaign_clients_client_id", "client_id"),
        Index("ix_campaign_clients_due", "campaign_id", "call_state", "next_call_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    row_no: Mapped[int] = mapped_column(Integer)
    client_id: Mapped[str] = mapped_column(String(128))
    name: Mapped[str] = mapped_column(String(128))
    phone: Mapped[str] = mapped_column(String(32))
    language: Mapped[str] = mapped_column(String(8))
    consent: Mapped[bool] = mapped_column(Boolean)
    consent_date: Mapped[date | None] = mapped_column(Date)
    last_activity_date: Mapped[date | None] = mapped_column(Date)
    aum_band: Mapped[str] = mapped_column(String(32))
    payroll_day: Mapped[int | None] = mapped_column(Integer)
    risk_level: Mapped[str | None] = mapped_column(String(8))
    tags: Mapped[str] = mapped_column(String(512))
    advisor_id: Mapped[str | None] = mapped_column(String(64))
    timezone: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16))
    reasons: Mapped[str] = mapped_column(String(512))
    segment: Mapped[str | None] = mapped_column(String(64))
    priority: Mapped[float] = mapped_column(Float)
    arm: Mapped[str | None] = mapped_column(String(32))
    script_id: Mapped[str | None] = mapped_column(String(128))
    call_state: Mapped[str] = mapped_column(String(12))
    next_call_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    attempts: Mapped[int] = mapped_column(Integer)
    stop_reason: Mapped[str | None] = mapped_column(String(64))
    callback_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class CampaignAttempt(Base):
    """One dial of one client; `idempotency_key` = "<campaign>:<client>:<attempt_no>"."""

    __tablename__ = "campaign_attempts"
    __table_args__ = (
        Index("ix_campaign_attempts_campaign_state", "campaign_id", "state"),
        Index("ix_campaign_attempts_client", "campaign_client_id"),
        Index("ix_campaign_attempts_dialing_at", "dialing_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    campaign_client_id: Mapped[int] = mapped_column(ForeignKey("campaign_clients.id", ondelete="CASCADE"))
    client_id: Mapped[str] = mapped_column(String(128))
    phone: Mapped[str] = mapped_column(String(32))
    attempt_no: Mapped[int] = mapped_column(Integer)
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)
    state: Mapped[str] = mapped_column(String(16))
    call_sid: Mapped[str | None] = mapped_column(String(64), unique=True)
    answered_by: Mapped[str | None] = mapped_column(String(32))
    duration_s: Mapped[int | None] = mapped_column(Integer)
    engaged: Mapped[bool] = mapped_column(Boolean, default=False)
    opted_out: Mapped[bool] = mapped_column(Boolean, default=False)
    voicemail: Mapped[bool] = mapped_column(Boolean, default=False)
    transferred: Mapped[bool] = mapped_column(Boolean, default=False)
    callback_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    error: Mapped[str | None] = mapped_column(Text)
    dialing_at: Mapped[datetime] = mapped_column(UTCDateTime())
    placed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class CampaignOutcome(Base):
    """One post-campaign activity value (e.g. purchased=1, aum_increase=50000) for a client, both arms.

    `source` says how we know: `imported` (the bank's activity file, for every arm alike) or `callback`
    (attributed from an event only treated clients can cause, e.g. adding the advisor on WeCom through
    the link offered on the call). The report counts, per arm, only the sources outcomes.yml allows.
    """

    __tablename__ = "campaign_outcomes"
    __table_args__ = (
        UniqueConstraint(
            "campaign_id", "client_id", "name", "activity_date", "source", name="uq_campaign_outcomes_key"
        ),
        Index("ix_campaign_outcomes_name", "campaign_id", "name"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    client_id: Mapped[str] = mapped_column(String(128))
    name: Mapped[str] = mapped_column(String(64))
    activity_date: Mapped[date] = mapped_column(Date)
    value: Mapped[float] = mapped_column(Float)
    source: Mapped[str] = mapped_column(String(16), default="imported", server_default="imported")
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime())
