"""An in-memory CallStore for the voice tests; idempotent like the campaign-backed one."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from bot.campaigns.calls import CallContext
from bot.channels.voice.store import Outcome


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
