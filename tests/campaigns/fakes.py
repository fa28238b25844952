"""In-process fakes for the dialer: a virtual clock and a provider that answers like Twilio would."""

from __future__ import annotations

import asyncio
import csv
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from bot.campaigns.calls import record_call_status
from bot.campaigns.importer import COLUMNS
from bot.campaigns.provider import CallRequest, PlacedCall
from bot.campaigns.service import CampaignCreated, CreateOptions, create_campaign
from bot.db import transaction
from bot.settings import Settings

REFUSED_CN = "Twilio cannot call mainland China (+86) since 2023-11-30"


class FakeClock:
    """Virtual time: sleeping advances it at once, so runs over hours of calling take milliseconds."""

    def __init__(self, start: datetime) -> None:
        self.start = start
        self.offset = 0.0

    def now(self) -> datetime:
        return self.start + timedelta(seconds=self.offset)

    def monotonic(self) -> float:
        return self.offset

    async def sleep(self, seconds: float) -> None:
        self.offset += max(seconds, 0.0)
        await asyncio.sleep(0)

    def advance_to(self, when: datetime) -> None:
        self.offset = max(self.offset, (when - self.start).total_seconds())


class Crash(Exception):
    """The process dies mid-call (after the provider accepted it, before we learned the CallSid)."""


class FakeProvider:
    """Places calls in memory and sends the final status callback at once through the real contract."""

    name = "fake"

    def __init__(
        self,
        sessions: sessionmaker[Session],
        clock: FakeClock,
        *,
        outcome: Callable[[CallRequest, int], str] = lambda _r, _n: "completed",
        crash_on: set[int] | None = None,
    ) -> None:
        self.sessions, self.clock, self.outcome = sessions, clock, outcome
        self.crash_on = crash_on or set()
        self.calls: list[tuple[datetime, CallRequest]] = []

    def refusal_reason(self, number: str) -> str | None:
        return REFUSED_CN if number.startswith("+86") else None

    async def place_call(self, request: CallRequest) -> PlacedCall:
        self.calls.append((self.clock.now(), request))
        number = len(self.calls)
        if number in self.crash_on:
            raise Crash(f"crash while placing call {number}")
        sid = f"CA{number:08d}"
        status = self.outcome(request, number)
        attempt_id = int(request.metadata["attempt_id"])

        def callback() -> None:
            with transaction(self.sessions) as session:
                record_call_status(
                    session, attempt_id=attempt_id, call_sid=sid, status=status,
                    answered_by="human" if status == "completed" else None, now=self.clock.now(),
                )  # fmt: skip

        await asyncio.to_thread(callback)
        return PlacedCall(call_sid=sid, status="queued")


def client(client_id: str, **overrides: Any) -> dict[str, str]:
    row = {
        "client_id": client_id, "name": f"客户{client_id}", "phone": "+85291234567", "language": "zh",
        "consent_call": "yes", "consent_date": "2025-01-01", "last_activity_date": "2026-06-01",
        "aum_band": "high", "payroll_day": "", "risk_level": "C3", "tags": "", "advisor_id": "A1",
    }  # fmt: skip
    row.update(overrides)
    return row


def write_csv(path: Path, rows: list[dict[str, str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(COLUMNS))
        writer.writeheader()
        writer.writerows(rows)
    return path


def make_campaign(
    sessions: sessionmaker[Session],
    settings: Settings,
    path: Path,
    rows: list[dict[str, str]],
    *,
    as_of: datetime,
    **options: Any,
) -> CampaignCreated:
    write_csv(path, rows)
    with transaction(sessions) as session:
        return create_campaign(
            session, settings, CreateOptions(name="测试活动", as_of=as_of, seed=options.pop("seed", 42), **options),
            clients_file=path, refusal=lambda n: REFUSED_CN if n.startswith("+86") else None,
        )  # fmt: skip
