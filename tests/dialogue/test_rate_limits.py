"""Chat-turn windows counted in the app database: every app process sharing it admits the same turns."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from bot.app import sender_window
from bot.db import make_engine, session_factory
from bot.dialogue.rate_limits import DatabaseWindow, RateLimitHit
from bot.limits import SlidingWindow
from bot.settings import load_settings


class Clock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def processes(db_url: str) -> Iterator[tuple[sessionmaker[Session], sessionmaker[Session]]]:
    """Two engines on one database, as two app processes have."""
    engines = [make_engine(db_url), make_engine(db_url)]
    yield session_factory(engines[0]), session_factory(engines[1])
    for engine in engines:
        engine.dispose()


def window(
    sessions: sessionmaker[Session], clock: Clock, *, name: str = "sender", limit: int = 3, sweep_every: int = 500
) -> DatabaseWindow:
    return DatabaseWindow(lambda: sessions, name=name, limit=limit, window_s=60, clock=clock, sweep_every=sweep_every)


def rows(sessions: sessionmaker[Session]) -> int:
    with sessions() as db:
        return int(db.scalar(select(func.count()).select_from(RateLimitHit)) or 0)


async def test_two_processes_share_one_count(processes: tuple[sessionmaker[Session], ...]) -> None:
    clock = Clock()
    a, b = window(processes[0], clock), window(processes[1], clock)
    assert [await a.count("web:x"), await b.count("web:x"), await a.count("web:x")] == [None, None, None]
    clock.now += 10
    assert await b.count("web:x") == pytest.approx(50.0)  # the first turn leaves the window in 50 s
    assert await a.count("web:x") == pytest.approx(50.0)  # refused in the other process too, and not counted
    assert await a.count("web:y") is None  # another sender has its own count
    clock.now += 50
    assert await b.count("web:x") is None  # the first turn has left the window


async def test_limits_of_different_names_count_apart(processes: tuple[sessionmaker[Session], ...]) -> None:
    clock = Clock()
    sender, address = window(processes[0], clock, limit=1), window(processes[0], clock, name="address", limit=1)
    assert await sender.count("127.0.0.1") is None
    assert await address.count("127.0.0.1") is None
    assert await sender.count("127.0.0.1") is not None


async def test_expired_turns_of_every_key_are_swept(processes: tuple[sessionmaker[Session], ...]) -> None:
    clock = Clock()
    limit = window(processes[0], clock, sweep_every=4)
    for key in ("a", "b", "c"):
        assert await limit.count(key) is None
    assert rows(processes[0]) == 3
    clock.now += 61
    assert await limit.count("d") is None  # the 4th turn sweeps a, b and c, long expired
    assert rows(processes[0]) == 1


async def test_a_failing_database_lets_the_turn_through(tmp_path: object) -> None:
    engine = make_engine(f"sqlite:///{tmp_path}/never-migrated.db")  # no rate_limit_hits table
    try:
        limit = DatabaseWindow(lambda: session_factory(engine), name="sender", limit=1, window_s=60)
        assert [await limit.count("web:x"), await limit.count("web:x")] == [None, None]
    finally:
        engine.dispose()
    not_open = DatabaseWindow(lambda: None, name="sender", limit=1, window_s=60)
    assert await not_open.count("web:x") is None


def test_the_app_counts_senders_in_memory_on_sqlite_and_in_the_database_on_a_server(tmp_path: object) -> None:
    from fastapi import FastAPI

    embedded = load_settings(data_dir=tmp_path)
    server = load_settings(data_dir=tmp_path, database={"url": "postgresql+psycopg://u@127.0.0.1:1/app"})
    assert isinstance(sender_window(embedded, FastAPI()), SlidingWindow)
    assert isinstance(sender_window(server, FastAPI()), DatabaseWindow)


def test_concurrent_turns_from_two_processes_admit_exactly_the_limit(
    processes: tuple[sessionmaker[Session], ...], db_url: str
) -> None:
    if not db_url.startswith("postgresql"):
        pytest.skip("one process per SQLite database by design: the app keeps the memory window there")
    limits = [DatabaseWindow(lambda s=s: s, name="sender", limit=5, window_s=60) for s in processes]

    async def burst() -> list[float | None]:
        return await asyncio.gather(*(limits[i % 2].count("web:burst") for i in range(16)))

    results = asyncio.run(burst())
    assert results.count(None) == 5 and rows(processes[0]) == 5
