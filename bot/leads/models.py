"""Tables (leads, lead_outbox) and the schemas at the leads boundary.

Dedup lives in the database, not in Python: a partial unique index allows one *open* lead
(new or contacted) per client, type and product, so even two app processes racing on the same
double-submitted lead cannot create two. `product_code` is '' (not NULL) when no product is named,
because NULLs never collide in a unique index.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Generic, Literal, TypeVar

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator, model_validator
from sqlalchemy import CheckConstraint, Float, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from bot.contacts.portable import UTCDateTime
from bot.db import Base

LeadType = Literal["product_interest", "advisor_request", "callback_request", "complaint"]
LeadStatus = Literal["new", "contacted", "converted", "closed"]
EventType = Literal["lead.created", "lead.updated"]
# Where a lead's contact details came from: the client typed them (with consent), or the bank's client
# list (a campaign's client row). A later lead of the same client inherits them with their source.
ContactSource = Literal["conversation", "client_list"]
# How the advisor was chosen: the client row's advisor_id, the segment's advisors, the roster, or by staff.
AdvisorRule = Literal["client_list", "segment", "roster", "manual"]

OPEN_STATUSES: tuple[LeadStatus, ...] = ("new", "contacted")
# The life cycle: new → contacted → converted | closed, and new → closed (e.g. spam, unreachable).
TRANSITIONS: dict[str, frozenset[str]] = {
    "new": frozenset({"contacted", "closed"}),
    "contacted": frozenset({"converted", "closed"}),
    "converted": frozenset(),
    "closed": frozenset(),
}
# The predicate of the partial unique index (also the ON CONFLICT target's WHERE, which must match it).
OPEN_LEAD = text("status IN ('new', 'contacted')")


class Lead(Base):
    """A sales or service opportunity: who, where, why, and where it stands."""

    __tablename__ = "leads"
    __table_args__ = (
        Index(
            "uq_leads_open_client_type_product", "client_key", "type", "product_code",
            unique=True, sqlite_where=OPEN_LEAD, postgresql_where=OPEN_LEAD,
        ),
        Index("ix_leads_status_created", "status", "created_at"),
        Index("ix_leads_created", "created_at"),
        Index("ix_leads_advisor", "advisor_id"),
        Index("ix_leads_client", "client_key"),
        Index("ix_leads_linked_client", "linked_client_id"),
        Index("ix_leads_sender_type", "sender_id", "type", "created_at"),
        CheckConstraint(
            "type IN ('product_interest', 'advisor_request', 'callback_request', 'complaint')", name="type"
        ),
        CheckConstraint("status IN ('new', 'contacted', 'converted', 'closed')", name="status"),
    )  # fmt: skip

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # who: the client id when known, else the conversation's sender id
    client_key: Mapped[str] = mapped_column(String(128))
    sender_id: Mapped[str] = mapped_column(String(128))
    # where
    channel: Mapped[str] = mapped_column(String(32))
    conversation_id: Mapped[str] = mapped_column(String(128))
    # why
    type: Mapped[str] = mapped_column(String(32))
    intent: Mapped[str] = mapped_column(String(64))
    confidence: Mapped[float | None] = mapped_column(Float)
    product_code: Mapped[str] = mapped_column(String(64))
    score: Mapped[float] = mapped_column(Float)
    evidence: Mapped[str] = mapped_column(Text)
    summary: Mapped[str | None] = mapped_column(Text)
    callback_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    advisor_id: Mapped[str | None] = mapped_column(String(64))
    advisor_rule: Mapped[str | None] = mapped_column(String(16))
    # how to reach the client, and the consent to be contacted (wording shown and when it was given)
    contact_name: Mapped[str | None] = mapped_column(String(64))
    contact_phone: Mapped[str | None] = mapped_column(String(20))
    contact_source: Mapped[str | None] = mapped_column(String(16))
    consent_text: Mapped[str | None] = mapped_column(Text)
    consent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # who the client is at the bank: a client id (a campaign's client list), its campaign, the WeCom user
    linked_client_id: Mapped[str | None] = mapped_column(String(128))
    campaign_id: Mapped[int | None] = mapped_column(Integer)
    wecom_external_userid: Mapped[str | None] = mapped_column(String(128))
    # state
    status: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class LeadSenderLock(Base):
    """One row per sender and lead type, locked while that sender's lead is recorded.

    "At most one open lead per sender and type within a window" spans rows a unique index cannot
    cover (other products, a time range), so writers for one sender and type queue on this row instead:
    on SQLite its insert takes the database write lock, on PostgreSQL SELECT ... FOR UPDATE locks it.
    """

    __tablename__ = "lead_sender_locks"

    sender_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    type: Mapped[str] = mapped_column(String(32), primary_key=True)


class LeadOutbox(Base):
    """A lead event waiting for (or done with) delivery to the CRM; written in the lead's transaction."""

    __tablename__ = "lead_outbox"
    __table_args__ = (
        Index("ix_lead_outbox_due", "delivered_at", "next_attempt_at"),
        Index("ix_lead_outbox_lead", "lead_id", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    event_id: Mapped[str] = mapped_column(String(36), unique=True)
    lead_id: Mapped[int] = mapped_column(ForeignKey("leads.id"))
    event_type: Mapped[str] = mapped_column(String(32))
    # The exact JSON body sent (and signed); fixed at write time so every retry sends the same bytes.
    payload: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    attempts: Mapped[int] = mapped_column(Integer)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime())
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(Text)


class LeadCreate(BaseModel):
    """What record_lead accepts, validated once at the boundary."""

    model_config = ConfigDict(str_strip_whitespace=True)

    client_key: str = Field(min_length=1, max_length=128)
    sender_id: str = Field(min_length=1, max_length=128)
    channel: str = Field(min_length=1, max_length=32)
    conversation_id: str = Field(min_length=1, max_length=128)
    type: LeadType
    intent: str = Field(max_length=64)
    confidence: float | None = Field(default=None, ge=0, le=1)
    product_codes: list[str] = Field(default_factory=list)
    score: float = Field(ge=0, le=100)
    evidence: str
    summary: str | None = None
    callback_at: AwareDatetime | None = None

    @field_validator("product_codes")
    @classmethod
    def _distinct_codes(cls, codes: list[str]) -> list[str]:
        """Blank codes dropped, repeats collapsed (order kept): one lead per distinct product."""
        distinct = list(dict.fromkeys(c.strip() for c in codes if c.strip()))
        if any(len(c) > 64 for c in distinct):
            raise ValueError("product codes are at most 64 characters")
        return distinct


class LeadRead(BaseModel):
    """A lead as the API, the CSV export and the CRM see it."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    client_key: str
    sender_id: str
    channel: str
    conversation_id: str
    type: LeadType
    intent: str
    confidence: float | None
    product_code: str
    score: float
    evidence: str
    summary: str | None
    callback_at: datetime | None
    advisor_id: str | None
    advisor_rule: AdvisorRule | None = None
    contact_name: str | None = None
    contact_phone: str | None = None
    contact_source: ContactSource | None = None
    consent_text: str | None = None
    consent_at: datetime | None = None
    linked_client_id: str | None = None
    campaign_id: int | None = None
    wecom_external_userid: str | None = None
    status: LeadStatus
    created_at: datetime
    updated_at: datetime


class KnownClient(BaseModel):
    """A client the bank already knows (a row of a campaign's client list), as leads need them."""

    client_id: str
    name: str
    phone: str
    advisor_id: str | None
    segment: str | None
    campaign_id: int
    consent_date: date | None


class LeadUpdate(BaseModel):
    """PATCH body: a status change, an advisor assignment (null unassigns), or both."""

    model_config = ConfigDict(extra="forbid")

    status: LeadStatus | None = None
    advisor_id: str | None = Field(default=None, min_length=1, max_length=64)

    @model_validator(mode="after")
    def _something_to_change(self) -> LeadUpdate:
        if not self.model_fields_set:
            raise ValueError("nothing to update: send 'status' and/or 'advisor_id'")
        if "status" in self.model_fields_set and self.status is None:
            raise ValueError("status cannot be null")
        return self


class LeadFilters(BaseModel):
    """Which leads to list or export; every field narrows, times are [created_from, created_to)."""

    status: LeadStatus | None = None
    type: LeadType | None = None
    channel: str | None = None
    client_key: str | None = None
    product_code: str | None = None
    advisor_id: str | None = None
    unassigned: bool | None = None
    created_from: AwareDatetime | None = None
    created_to: AwareDatetime | None = None

    @model_validator(mode="after")
    def _ordered(self) -> LeadFilters:
        if self.created_from and self.created_to and self.created_from >= self.created_to:
            raise ValueError("created_from must be earlier than created_to")
        return self


T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    """One page of results and the total, so a UI can show "page 2 of 7"."""

    items: list[T]
    total: int
    page: int
    page_size: int
