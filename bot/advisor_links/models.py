"""Tables of the advisors' WeCom links: each 「联系我」 link we created (its config_id, so it can be updated
or deleted), and each friend-add it brought, attributed to its campaign, client, arm and advisor."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict
from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bot.contacts.portable import UTCDateTime
from bot.db import Base

# creating: written before add_contact_way is called; active: WeCom answered its config_id; failed:
# WeCom did not create it; unknown: the call was ambiguous (it may exist, config_id never learned);
# deleted: del_contact_way done (or expired while unknown: nothing left we can delete).
LinkStatus = Literal["creating", "active", "failed", "unknown", "deleted"]
LIVE_STATUSES: tuple[LinkStatus, ...] = ("creating", "active", "unknown")  # what counts against the quota
WelcomeStatus = Literal["pending", "sending", "sent", "failed", "unknown", "expired", "blocked", "none"]


class ContactWayLink(Base):
    """One 「联系我」 QR link of one advisor; its `state` names the attempt (kind a) or conversation (c)."""

    __tablename__ = "wecom_contact_ways"
    __table_args__ = (
        Index("ix_wecom_contact_ways_client", "campaign_id", "client_id", "advisor_id"),
        Index("ix_wecom_contact_ways_conversation", "conversation_id", "advisor_id"),
        Index("ix_wecom_contact_ways_expiry", "status", "expires_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(1))
    # Set right after the row exists (a conversation link's state is signed over its own id).
    state: Mapped[str | None] = mapped_column(String(32), unique=True)
    advisor_id: Mapped[str] = mapped_column(String(64))
    campaign_id: Mapped[int | None] = mapped_column(Integer)
    attempt_id: Mapped[int | None] = mapped_column(Integer)
    client_id: Mapped[str | None] = mapped_column(String(128))
    conversation_id: Mapped[str | None] = mapped_column(String(128))
    client_key: Mapped[str | None] = mapped_column(String(128))
    language: Mapped[str] = mapped_column(String(8))  # of the client: the welcome is written in it
    config_id: Mapped[str | None] = mapped_column(String(128), unique=True)
    qr_code: Mapped[str | None] = mapped_column(String(1024))
    status: Mapped[str] = mapped_column(String(12))
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class FriendAdd(Base):
    """A client who added an advisor through one of our links (the add_external_contact callback).

    One row per link and WeCom user: a repeated callback changes nothing. `welcome_status` moves from
    pending to sending exactly once (an atomic update), so the welcome goes out once at most.
    """

    __tablename__ = "wecom_friend_adds"
    __table_args__ = (
        UniqueConstraint("link_id", "external_userid", name="uq_wecom_friend_adds_link_user"),
        Index("ix_wecom_friend_adds_campaign", "campaign_id", "client_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    link_id: Mapped[int] = mapped_column(ForeignKey("wecom_contact_ways.id"))
    advisor_id: Mapped[str] = mapped_column(String(64))
    external_userid: Mapped[str] = mapped_column(String(128))
    campaign_id: Mapped[int | None] = mapped_column(Integer)
    client_id: Mapped[str | None] = mapped_column(String(128))
    client_key: Mapped[str | None] = mapped_column(String(128))
    arm: Mapped[str | None] = mapped_column(String(32))
    segment: Mapped[str | None] = mapped_column(String(64))
    language: Mapped[str] = mapped_column(String(8))
    added_at: Mapped[datetime] = mapped_column(UTCDateTime())
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime())
    outcome_recorded: Mapped[bool] = mapped_column(Boolean, default=False)
    leads_linked: Mapped[int] = mapped_column(Integer, default=0)
    welcome_status: Mapped[str] = mapped_column(String(12))
    welcome_detail: Mapped[str | None] = mapped_column(Text)


class AdvisorLink(BaseModel):
    """A link to show or send: the advisor, the QR code's URL, the state it carries, when it expires."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    advisor_id: str
    state: str
    config_id: str
    url: str
    expires_at: datetime
    reused: bool = False


class LinkUsage(BaseModel):
    """How many links count against the quota now, and how many of them are past their expiry."""

    live: int
    quota: int
    expired: int
    by_status: dict[str, int]
