"""The seam between the voice webhooks and campaign attempts: who is being called, and what happened.

The webhooks depend only on `CallStore`; `CampaignCallStore` binds it to bot.campaigns.calls (the dialer's
durable attempts) and runs every database call in a worker thread.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy.orm import Session, sessionmaker

from bot.db import transaction
from bot.language import Language


@dataclass(frozen=True)
class CallContext:
    """The client behind one call attempt (mirrors bot.campaigns.calls.CallContext)."""

    attempt_id: int
    campaign_id: int
    client_id: str
    name: str
    phone: str
    language: str
    risk_level: str | None = None
    advisor_id: str | None = None
    script_id: str | None = None
    segment: str | None = None
    arm: str = "treatment"

    @property
    def lang(self) -> Language:
        return "en" if self.language == "en" else "zh"


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
    """CallStore over bot.campaigns.calls (imported lazily: campaigns and telephony are built in parallel)."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions

    async def context(self, attempt_id: int) -> CallContext | None:
        from bot.campaigns import calls

        def read() -> CallContext | None:
            with self._sessions() as session:
                found = calls.call_context(session, attempt_id=attempt_id)
            return None if found is None else CallContext(**{k: getattr(found, k) for k in _CONTEXT_FIELDS})

        return await asyncio.to_thread(read)

    async def status(
        self, *, attempt_id: int, call_sid: str, status: str, answered_by: str | None, duration_s: int | None
    ) -> bool:
        from bot.campaigns import calls

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
        from bot.campaigns import calls

        def write() -> None:
            with transaction(self._sessions) as session:
                calls.record_call_outcome(session, attempt_id=attempt_id, **_outcome_kwargs(outcome))

        await asyncio.to_thread(write)


_CONTEXT_FIELDS = tuple(CallContext.__dataclass_fields__)


def _outcome_kwargs(outcome: Outcome) -> dict[str, Any]:
    return {k: getattr(outcome, k) for k in ("engaged", "opted_out", "voicemail", "transferred", "callback_at")}


@dataclass
class MemoryCallStore:
    """An in-memory CallStore for tests and the stand-alone simulator demo; idempotent like the real one."""

    contexts: dict[int, CallContext] = field(default_factory=dict)
    statuses: dict[int, list[tuple[str, str]]] = field(default_factory=dict)
    outcomes: dict[int, Outcome] = field(default_factory=dict)
    _seen: set[tuple[int, str, str]] = field(default_factory=set)

    async def context(self, attempt_id: int) -> CallContext | None:
        return self.contexts.get(attempt_id)

    async def status(
        self, *, attempt_id: int, call_sid: str, status: str, answered_by: str | None, duration_s: int | None
    ) -> bool:
        key = (attempt_id, call_sid, status)
        if key in self._seen:
            return False
        self._seen.add(key)
        self.statuses.setdefault(attempt_id, []).append((call_sid, status))
        return True

    async def outcome(self, *, attempt_id: int, outcome: Outcome) -> None:
        old = self.outcomes.get(attempt_id, Outcome())
        self.outcomes[attempt_id] = replace(
            old,
            engaged=old.engaged or outcome.engaged,
            opted_out=old.opted_out or outcome.opted_out,
            voicemail=old.voicemail or outcome.voicemail,
            transferred=old.transferred or outcome.transferred,
            callback_at=outcome.callback_at or old.callback_at,
        )
