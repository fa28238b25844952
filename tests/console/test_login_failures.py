"""The wrong-password slow-down shared by app processes: two ConsoleAuth (two processes) on one real,
migrated database. Guesses spread over both count together; a success, or time, clears them for both."""

from __future__ import annotations

from pydantic import SecretStr
from sqlalchemy.orm import Session, sessionmaker

from bot.console.auth import FAILURE_MEMORY_S, FREE_FAILURES, ConsoleAuth, hash_password
from bot.console.failures import DatabaseFailures
from bot.settings import ConsoleSettings

HERE, ELSEWHERE = "10.0.0.1", "10.0.0.2"


class Clock:
    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now


def _process(sessions: sessionmaker[Session], clock: Clock) -> ConsoleAuth:
    users = {"alice": {"password_hash": SecretStr(hash_password("pw-alice-123")), "role": "admin"}}
    settings = ConsoleSettings.model_validate({"users": users, "session_secret": SecretStr("k" * 32)})
    return ConsoleAuth(settings, clock=clock, failures=DatabaseFailures(lambda: sessions))


def test_guesses_spread_over_two_processes_slow_down_both(sessions: sessionmaker[Session]) -> None:
    clock = Clock()
    one, other = _process(sessions, clock), _process(sessions, clock)
    for i in range(FREE_FAILURES + 1):  # alternating processes, as a balancer would
        assert (one if i % 2 else other).login("alice", "guess", address=HERE) is None
    assert one.retry_after("alice", HERE) > 0 and other.retry_after("ALICE", HERE) > 0
    assert other.retry_after("alice", ELSEWHERE) == 0  # the real admin's desk is not slowed down
    clock.now += 60
    assert one.login("alice", "pw-alice-123", address=HERE) is not None  # a success clears it everywhere
    assert other.retry_after("alice", HERE) == 0


def test_failures_are_forgotten_after_their_memory(sessions: sessionmaker[Session]) -> None:
    clock = Clock()
    one, other = _process(sessions, clock), _process(sessions, clock)
    for _ in range(FREE_FAILURES + 2):
        one.login("mallory", "guess", address=HERE)
    assert other.retry_after("mallory", HERE) > 0
    clock.now += FAILURE_MEMORY_S + 1
    assert other.retry_after("mallory", HERE) == 0
    other.login("mallory", "guess", address=ELSEWHERE)  # a new failure prunes the forgotten rows
    with sessions() as db:
        from sqlalchemy import func, select

        from bot.console.models import ConsoleLoginFailure

        assert db.scalar(select(func.count()).select_from(ConsoleLoginFailure)) == 1
