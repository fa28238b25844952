"""Where the console's wrong-password slow-down keeps its failures: in this process's memory (the default,
and what tests of the delays use), or in the app database, shared by every app process.

Plain synchronous calls: the login route runs in FastAPI's thread pool.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Protocol

from sqlalchemy import delete, select
from sqlalchemy.orm import Session, sessionmaker

from bot.console.models import ConsoleLoginFailure
from bot.db import transaction

_MEMORY_KEYS = 10_000  # bounded memory under a spray of random names


class LoginFailures(Protocol):
    """Failures per (user, address): when they happened, in the auth's clock's seconds."""

    def recent(self, name: str, address: str, *, since: float) -> list[float]: ...

    def add(self, name: str, address: str, *, at: float, forget_before: float) -> None: ...

    def clear(self, name: str, address: str) -> None: ...


class MemoryFailures:
    """One process's failures."""

    def __init__(self) -> None:
        self._failures: dict[tuple[str, str], list[float]] = {}
        self._lock = threading.Lock()

    def recent(self, name: str, address: str, *, since: float) -> list[float]:
        with self._lock:
            return [t for t in self._failures.get((name, address), []) if t > since]

    def add(self, name: str, address: str, *, at: float, forget_before: float) -> None:
        with self._lock:
            kept = [t for t in self._failures.get((name, address), []) if t > forget_before]
            self._failures[(name, address)] = [*kept, at]
            if len(self._failures) > _MEMORY_KEYS:
                self._failures.pop(next(iter(self._failures)))

    def clear(self, name: str, address: str) -> None:
        with self._lock:
            self._failures.pop((name, address), None)


class DatabaseFailures:
    """Failures in the app database: every process sharing it slows the same guesser down alike.

    `sessions` is read at each call: the app opens its database in its lifespan, after this is built.
    """

    def __init__(self, sessions: Callable[[], sessionmaker[Session] | None]) -> None:
        self._sessions = sessions

    def _factory(self) -> sessionmaker[Session]:
        factory = self._sessions()
        if factory is None:
            raise RuntimeError("the app database is not open yet")
        return factory

    def recent(self, name: str, address: str, *, since: float) -> list[float]:
        f = ConsoleLoginFailure
        query = select(f.at).where(f.username == name, f.address == address, f.at > since).order_by(f.at)
        with self._factory()() as db:
            return list(db.scalars(query))

    def add(self, name: str, address: str, *, at: float, forget_before: float) -> None:
        with transaction(self._factory()) as db:
            db.execute(delete(ConsoleLoginFailure).where(ConsoleLoginFailure.at <= forget_before))
            db.add(ConsoleLoginFailure(username=name, address=address, at=at))

    def clear(self, name: str, address: str) -> None:
        f = ConsoleLoginFailure
        with transaction(self._factory()) as db:
            db.execute(delete(f).where(f.username == name, f.address == address))
