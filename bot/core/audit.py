"""Audit trail of blocked generated answers: who (conversation), which rule, and a hash of the text.

By default the text itself is not stored (it may hold personal data); its sha256 lets a reviewer match
it against the full transcript kept elsewhere. The outgoing guard keeps the blocked text with phone
numbers, ID numbers and labelled names masked, for admins reviewing it in the console.
A database sink will replace the JSON-lines default.
"""

from __future__ import annotations

import asyncio
import hashlib
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

from pydantic import BaseModel, Field

from bot.core.masking import mask_text
from bot.settings import Settings


class AuditEntry(BaseModel):
    """One blocked message and one rule it broke."""

    at: datetime = Field(default_factory=lambda: datetime.now(UTC))
    conversation_id: str | None
    rule: str
    critical: bool = True
    sha256: str
    source: str = "knowledge.generative"
    text: str | None = None  # masked; only when the writer asked to keep it

    @classmethod
    def for_text(
        cls, text: str, *, conversation_id: str | None, rule: str, critical: bool = True, keep_text: bool = False
    ) -> AuditEntry:
        return cls(
            conversation_id=conversation_id,
            rule=rule,
            critical=critical,
            sha256=hashlib.sha256(text.encode("utf-8")).hexdigest(),
            text=mask_text(text) if keep_text else None,
        )


class AuditSink(Protocol):
    """Where audit entries go."""

    async def record(self, entry: AuditEntry) -> None: ...


class JsonLinesFile:
    """An append-only JSON-lines file: one line per record, written off the event loop, one writer at a
    time, so concurrent turns never interleave half lines."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()

    def _append(self, line: str) -> None:
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a", encoding="utf-8") as handle:
                handle.write(line + "\n")

    async def write(self, record: BaseModel) -> None:
        await asyncio.to_thread(self._append, record.model_dump_json())


class JsonlAuditSink(JsonLinesFile):
    """Appends one JSON line per entry (default: data_dir/audit/compliance.jsonl)."""

    async def record(self, entry: AuditEntry) -> None:
        await self.write(entry)


class NullAuditSink:
    """For `compliance.audit: false`."""

    async def record(self, entry: AuditEntry) -> None:
        return None


def audit_trail(settings: Settings) -> JsonlAuditSink | None:
    """The compliance audit trail (data_dir/audit/compliance.jsonl); None with `compliance.audit: false`."""
    return JsonlAuditSink(settings.data_dir / "audit" / "compliance.jsonl") if settings.compliance.audit else None
