"""Console sessions kept server-side, so logging out (or an admin) ends a session everywhere at once.

The cookie stays HMAC-signed and names its session by a random id; a request is let in only while
that row exists, is not revoked and has not expired. Being a database row, a revocation holds for
every app process sharing the database. Schema: bot/migrations/versions/0006_security.py.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from bot.contacts.portable import UTCDateTime
from bot.db import Base


class ConsoleSession(Base):
    """One login: who, until when, and whether it was ended (logout)."""

    __tablename__ = "console_sessions"
    __table_args__ = (Index("ix_console_sessions_expires", "expires_at"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    username: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class ConsoleLoginFailure(Base):
    """One wrong password for a (user, client address), kept FAILURE_MEMORY_S: shared by every app process,
    so spreading guesses over processes does not multiply them. Schema: 0008_console_login_failures."""

    __tablename__ = "console_login_failures"
    __table_args__ = (Index("ix_console_login_failures_who", "username", "address", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(128))
    address: Mapped[str] = mapped_column(String(64))
    at: Mapped[float] = mapped_column(Float)  # seconds since the epoch (every process's clock)
