"""Chat-turn rate windows shared by every app process: the turns counted in the app database.

`bot.limits.SlidingWindow` counts in one process's memory, so a client whose turns a balancer spreads over
N app processes would get N times the turns. On a database server (the scale-out shape) the app counts
them here instead: each key's recent turns are rows, and a turn is admitted under a per-key transaction
lock (PostgreSQL's advisory lock), so two processes never both admit the last allowed turn. SQLite, one
process by design, keeps the memory window. Schema: bot/migrations/versions/0010_rate_limit_hits.py.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import time
from collections.abc import Callable

from sqlalchemy import Float, Index, Integer, String, delete, func, insert, select, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Mapped, Session, mapped_column, sessionmaker

from bot.db import Base, transaction
from bot.errors import ConfigError

logger = logging.getLogger(__name__)
KEY_CHARS = 160
SWEEP_EVERY = 500  # turns per process between deletions of every key's expired rows


class RateLimitHit(Base):
    """One admitted turn of a key (a limit's name and a sender or client address), at wall-clock seconds."""

    __tablename__ = "rate_limit_hits"
    __table_args__ = (Index("ix_rate_limit_hits_key_at", "key", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(KEY_CHARS))
    at: Mapped[float] = mapped_column(Float)


class DatabaseWindow:
    """At most `limit` turns per key in any `window_s` seconds, counted by every process sharing the database.

    `sessions` is read at each call: the app opens its database in its lifespan, after this is built. The
    clock is the wall clock, the same in every process.
    """

    def __init__(
        self,
        sessions: Callable[[], sessionmaker[Session] | None],
        *,
        name: str,
        limit: int,
        window_s: float,
        clock: Callable[[], float] = time.time,
        sweep_every: int = SWEEP_EVERY,
    ) -> None:
        self._sessions = sessions
        self._name = name
        self._limit = limit
        self._window = window_s
        self._clock = clock
        self._turns = itertools.count(1)
        self._sweep_every = sweep_every

    async def count(self, key: str) -> float | None:
        """Count one turn; None if allowed, else the seconds until the key may try again (a database call: in
        a thread). A database that fails lets the turn through: a limit protects the app, it must not be
        what drops a conversation."""
        try:
            return await asyncio.to_thread(self.hit, key)
        except (SQLAlchemyError, ConfigError) as exc:
            logger.warning("rate window %s unavailable, turn let through: %r", self._name, exc)
            return None

    def hit(self, key: str) -> float | None:
        factory = self._sessions()
        if factory is None:
            raise ConfigError("the app database is not open yet")
        now, scoped, hit = self._clock(), f"{self._name}:{key}"[:KEY_CHARS], RateLimitHit
        expired = hit.at <= now - self._window
        sweep = next(self._turns) % self._sweep_every == 0
        # Statements, no ORM objects: this runs on every chat turn, and a unit-of-work flush would add
        # to its cost for nothing.
        with transaction(factory) as db:
            if db.get_bind().dialect.name == "postgresql":  # one admission at a time per key
                db.execute(text("SELECT pg_advisory_xact_lock(hashtext(:key))"), {"key": scoped})
            db.execute(delete(hit).where(expired if sweep else expired & (hit.key == scoped)))
            count, first = db.execute(select(func.count(), func.min(hit.at)).where(hit.key == scoped)).one()
            if count >= self._limit:
                return max(self._window - (now - first), 0.0)
            db.execute(insert(hit).values(key=scoped, at=now))
        return None
