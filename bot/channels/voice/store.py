"""The seam between the voice webhooks and campaign attempts: who is being called, and what happened.

The webhooks depend only on `CallStore`; `CampaignCallStore` binds it to bot.campaigns.calls (the dialer's
durable attempts) and runs every database call in a worker thread. Tests use an in-memory store.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy.orm import Session, sessionmaker

from bot.campaigns import calls
from bot.campaigns.calls import CallContext
from bot.db import transaction


@dataclass(frozen=True)
class Outcome:
    """What the conversation achieved; flags only ever turn on."""

    engaged: bool = False
    opted_out: bool = False
    voicemail: bool = False
    transferred: bool = False
    callback_at: datetime | None = None


class CallStore(Protocol):
    """Where call attempts live (the campaign dialer's database in production)."""

    async def context(self, attempt_id: int) -> CallContext | None: ...

    async def status(
        self, *, attempt_id: int, call_sid: str, status: str, answered_by: str | None, duration_s: int | None
    ) -> bool: ...

    async def outcome(self, *, attempt_id: int, outcome: Outcome) -> None: ...


class CampaignCallStore:
    """CallStore over bot.campaigns.calls, each database call in a worker thread."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions

    async def context(self, attempt_id: int) -> CallContext | None:
        def read() -> CallContext | None:
            with self._sessions() as session:
                return calls.call_context(session, attempt_id=attempt_id)

        return await asyncio.to_thread(read)

    async def status(
        self, *, attempt_id: int, call_sid: str, status: str, answered_by: str | None, duration_s: int | None
    ) -> bool:
        def write() -> bool:
            with transaction(self._sessions) as session:
                return calls.record_call_status(
                    session,
                    attempt_id=attempt_id,
                    call_sid=call_sid,
                    status=status,
                    answered_by=answered_by,
                    duration_s=duration_s,
                )

        return await asyncio.to_thread(write)

    async def outcome(self, *, attempt_id: int, outcome: Outcome) -> None:
        def write() -> None:
            with transaction(self._sessions) as session:
                calls.record_call_outcome(session, attempt_id=attempt_id, **_outcome_kwargs(outcome))

        await asyncio.to_thread(write)


def _outcome_kwargs(outcome: Outcome) -> dict[str, Any]:
    return {k: getattr(outcome, k) for k in ("engaged", "opted_out", "voicemail", "transferred", "callback_at")}
