"""Tables and schemas for contact preferences: do-not-contact keys, the opt-out register, risk profiles."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict
from sqlalchemy import JSON, CheckConstraint, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bot.contacts.portable import UTCDateTime
from bot.db import Base

KeyKind = Literal["client", "phone"]
# What a recorded refusal blocks: a phone number everywhere (every campaign, every channel), or only the
# channel identity it came from (a web visitor, a WeCom user) when no number is known.
Coverage = Literal["phone", "identity"]
RISK_LEVELS = ("C1", "C2", "C3", "C4", "C5")


class DoNotContact(Base):
    """One row per refused key (a client key or an E.164 phone); its presence is the refusal.

    The first refusal is kept as evidence and never removed: a refusal is permanent, so there is no
    "opt back in" here. Renewed consent, if the bank ever collects it, is a separate, explicit record.
    """

    __tablename__ = "do_not_contact"
    __table_args__ = (
        UniqueConstraint("key_kind", "key_value", name="uq_do_not_contact_key"),
        CheckConstraint("key_kind IN ('client', 'phone')", name="key_kind"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key_kind: Mapped[str] = mapped_column(String(8))
    key_value: Mapped[str] = mapped_column(String(128))
    # Who refused and how, whichever key this row is for.
    client_key: Mapped[str] = mapped_column(String(128))
    phone: Mapped[str | None] = mapped_column(String(20))
    channel: Mapped[str] = mapped_column(String(32))
    evidence: Mapped[str] = mapped_column(Text)
    opted_out_at: Mapped[datetime] = mapped_column(UTCDateTime())


class OptOut(Base):
    """The opt-out register: one row per refusal received (who, channel, when, evidence, who recorded it).

    `do_not_contact` holds the keys every check reads; this is what the console lists and exports. A
    repeat that blocks no new key adds no row, so retries and duplicate messages change nothing.
    """

    __tablename__ = "opt_outs"
    __table_args__ = (Index("ix_opt_outs_at", "opted_out_at"), Index("ix_opt_outs_phone", "phone"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # The channel identity (web:…, wecom:…, voice:…), the bank's client id, or phone:+86… for a phoned-in one.
    client_key: Mapped[str] = mapped_column(String(128))
    channel: Mapped[str] = mapped_column(String(32))
    phone: Mapped[str | None] = mapped_column(String(20))
    evidence: Mapped[str] = mapped_column(Text)
    # "dialogue", "voice", or "console:<user>" for one an admin entered (e.g. received by phone).
    recorded_by: Mapped[str] = mapped_column(String(64))
    opted_out_at: Mapped[datetime] = mapped_column(UTCDateTime())


class RiskProfile(Base):
    """One risk assessment; history is kept (audit), the latest `assessed_at` is the client's level."""

    __tablename__ = "risk_profiles"
    __table_args__ = (
        CheckConstraint("level IN ('C1', 'C2', 'C3', 'C4', 'C5')", name="level"),
        Index("ix_risk_profiles_client_assessed", "client_key", "assessed_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    client_key: Mapped[str] = mapped_column(String(128))
    level: Mapped[str] = mapped_column(String(2))
    score: Mapped[int] = mapped_column(Integer)
    answers: Mapped[dict[str, Any]] = mapped_column(JSON)
    assessed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class OptOutRead(BaseModel):
    """A recorded refusal, as audit and campaign tooling see it."""

    model_config = ConfigDict(from_attributes=True)

    key_kind: KeyKind
    key_value: str
    client_key: str
    phone: str | None
    channel: str
    evidence: str
    opted_out_at: datetime


class OptOutRecord(BaseModel):
    """One register entry, and what it covers."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    client_key: str
    channel: str
    phone: str | None
    evidence: str
    recorded_by: str
    opted_out_at: datetime

    @property
    def covers(self) -> Coverage:
        return "phone" if self.phone else "identity"


class OptOutRecorded(BaseModel):
    """What `opt_out` did: the keys now blocked, and the register entry (None when nothing was new)."""

    client_key: str
    channel: str
    phone: str | None
    covers: Coverage
    keys: list[OptOutRead]
    record: OptOutRecord | None


class RiskProfileRead(BaseModel):
    """One stored assessment."""

    model_config = ConfigDict(from_attributes=True)

    client_key: str
    level: str
    score: int
    answers: dict[str, Any]
    assessed_at: datetime
