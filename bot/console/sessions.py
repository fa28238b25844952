"""Server-side console sessions: opened at login, checked on every request, revoked at logout.

Plain synchronous functions taking a SQLAlchemy session (callers run them in FastAPI's thread pool).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from bot.console.models import ConsoleSession

# Expired or revoked rows are kept this long (for an audit of recent logins), then deleted at a login.
KEEP_ENDED = timedelta(days=7)


def open_session(db: Session, *, session_id: str, username: str, now: datetime, ttl: timedelta) -> None:
    """Record a new login (and prune long-ended ones)."""
    db.execute(delete(ConsoleSession).where(ConsoleSession.expires_at < now - KEEP_ENDED))
    db.add(ConsoleSession(id=session_id, username=username, created_at=now, expires_at=now + ttl))


def is_active(db: Session, *, session_id: str, now: datetime) -> bool:
    """True while the session exists, has not expired and was not revoked."""
    row = db.scalar(
        select(ConsoleSession.id).where(
            ConsoleSession.id == session_id,
            ConsoleSession.revoked_at.is_(None),
            ConsoleSession.expires_at > now,
        )
    )
    return row is not None


def revoke(db: Session, *, session_id: str, now: datetime) -> None:
    """End the session for every process sharing the database (logout)."""
    db.execute(
        update(ConsoleSession)
        .where(ConsoleSession.id == session_id, ConsoleSession.revoked_at.is_(None))
        .values(revoked_at=now)
    )
