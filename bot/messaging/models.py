"""The text messages table and the consent every send carries.

A row is written (and committed) before the provider is asked, under a unique idempotency key, so a
retried or repeated request finds it and never sends twice. A declined offer is a row too: the key is
then taken, and no later request under it sends anything.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field
from sqlalchemy import Boolean, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from bot.contacts.portable import UTCDateTime
from bot.db import Base

# declined: the client said no to the offer; refused: a check said no (do-not-contact, provider rule,
# no provider); sending: handed to the provider; sent; failed: the provider refused it; unknown: the
# provider may have sent it (ambiguous failure), never re-sent.
TextStatus = Literal["declined", "refused", "sending", "sent", "failed", "unknown"]


class TextMessage(Base):
    """One text message (or a declined offer of one), with the consent it was sent under."""

    __tablename__ = "text_messages"
    __table_args__ = (
        Index("ix_text_messages_client", "client_key"),
        Index("ix_text_messages_phone", "phone"),
        Index("ix_text_messages_campaign", "campaign_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)
    purpose: Mapped[str] = mapped_column(String(32))
    client_key: Mapped[str] = mapped_column(String(128))
    phone: Mapped[str] = mapped_column(String(20))
    campaign_id: Mapped[int | None] = mapped_column(Integer)
    attempt_id: Mapped[int | None] = mapped_column(Integer)
    body: Mapped[str] = mapped_column(Text)
    # The consent: what was offered (approved wording), the answer, the client's words, when, where.
    accepted: Mapped[bool] = mapped_column(Boolean)
    consent_text: Mapped[str] = mapped_column(Text)
    consent_evidence: Mapped[str] = mapped_column(Text)
    consent_at: Mapped[datetime] = mapped_column(UTCDateTime())
    consent_channel: Mapped[str] = mapped_column(String(32))
    consent_conversation: Mapped[str] = mapped_column(String(128))
    status: Mapped[str] = mapped_column(String(12))
    reason: Mapped[str | None] = mapped_column(Text)
    provider: Mapped[str | None] = mapped_column(String(32))
    provider_sid: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Consent(BaseModel):
    """What the client was offered and answered, when and where: the record each send keeps.

    `offer` is the approved wording the client heard or read; `words` what they answered; `conversation`
    the call (voice:<CallSid>) or chat it happened in.
    """

    model_config = ConfigDict(str_strip_whitespace=True, frozen=True)

    offer: str = Field(min_length=1, max_length=2000)
    accepted: bool
    words: str = Field(default="", max_length=2000)
    at: AwareDatetime
    channel: str = Field(min_length=1, max_length=32)
    conversation: str = Field(min_length=1, max_length=128)


class TextRead(BaseModel):
    """A text message as callers and audit see it."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    idempotency_key: str
    purpose: str
    client_key: str
    phone: str
    campaign_id: int | None
    attempt_id: int | None
    body: str
    accepted: bool
    consent_text: str
    consent_evidence: str
    consent_at: datetime
    consent_channel: str
    consent_conversation: str
    status: TextStatus
    reason: str | None
    provider: str | None
    provider_sid: str | None
    created_at: datetime
    sent_at: datetime | None
