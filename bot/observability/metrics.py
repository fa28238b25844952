"""Prometheus metrics, one registry per app instance (so two apps in one test process never collide).

Counters and histograms are updated where things happen (the gateway, the guard's audit sink, the
voice status webhook through `record_call_status`); leads by type and status are read from the
database when Prometheus scrapes, so no lead-writing code needs to know about metrics.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from bot.compliance.outgoing import OutgoingGuard
from bot.core.audit import AuditEntry, AuditSink
from bot.core.messages import Reply
from bot.dialogue.client import DialogueEngine
from bot.dialogue.service import DialogueGateway
from bot.language import Language

logger = logging.getLogger(__name__)
# Chat turns wait on Rasa and, sometimes, an LLM: buckets from 50 ms to 30 s.
TURN_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 15.0, 30.0)
CONTENT_TYPE = CONTENT_TYPE_LATEST


class LeadsCollector(Collector):
    """`advisor_leads{type,status}`: lead counts read from the database at scrape time."""

    def __init__(self, sessions: Callable[[], sessionmaker[Session] | None]) -> None:
        self._sessions = sessions

    def collect(self) -> Iterator[Metric]:
        family = GaugeMetricFamily(
            "advisor_leads", "Leads by type and status (from the database).", labels=["type", "status"]
        )
        factory = self._sessions()
        if factory is not None:
            from bot.leads.models import Lead

            try:
                with factory() as session:
                    rows = session.execute(
                        select(Lead.type, Lead.status, func.count()).group_by(Lead.type, Lead.status)
                    )
                    for lead_type, status, count in rows:
                        family.add_metric([lead_type, status], count)
            except SQLAlchemyError:  # a scrape must not fail because the database is busy or missing
                logger.warning("leads metric unavailable", exc_info=True)
        yield family


class Metrics:
    """The app's metrics; `render()` gives the Prometheus text exposition."""

    def __init__(self, *, sessions: Callable[[], sessionmaker[Session] | None] | None = None) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.turns = Counter(
            "advisor_turns",
            "User turns handled, by channel and outcome.",
            ["channel", "outcome"],
            registry=self.registry,
        )
        self.turn_latency = Histogram(
            "advisor_turn_latency_seconds",
            "Time from a user message to its guarded replies, by channel.",
            ["channel"],
            buckets=TURN_BUCKETS,
            registry=self.registry,
        )
        self.guard_blocks = Counter(
            "advisor_guard_blocks", "Messages blocked by the compliance guard, by rule and source.", ["rule", "source"],
            registry=self.registry,
        )  # fmt: skip
        self.calls = Counter(
            "advisor_calls", "Outbound call status callbacks, by status.", ["status"], registry=self.registry
        )
        if sessions is not None:
            self.registry.register(LeadsCollector(sessions))

    def record_turn(self, channel: str, seconds: float, *, ok: bool) -> None:
        self.turns.labels(channel=channel, outcome="ok" if ok else "error").inc()
        self.turn_latency.labels(channel=channel).observe(seconds)

    def record_guard_block(self, rule: str, source: str) -> None:
        self.guard_blocks.labels(rule=rule, source=source).inc()

    def record_call_status(self, status: str) -> None:
        """Call from the voice status webhook with the provider's status (queued, ringing, completed...)."""
        self.calls.labels(status=(status or "unknown").strip().lower()[:32]).inc()

    def render(self) -> bytes:
        """The exposition text (runs the leads query: call from a worker thread, not the event loop)."""
        return generate_latest(self.registry)


class MeteredAuditSink:
    """Counts guard blocks by rule, then hands the entry to the real sink (if auditing is on)."""

    def __init__(self, inner: AuditSink | None, metrics: Metrics) -> None:
        self._inner = inner
        self._metrics = metrics

    async def record(self, entry: AuditEntry) -> None:
        self._metrics.record_guard_block(entry.rule, entry.source)
        if self._inner is not None:
            await self._inner.record(entry)


class MeteredGateway(DialogueGateway):
    """The dialogue gateway, timed: turns and latency per channel, failures counted too."""

    def __init__(
        self,
        client: DialogueEngine,
        *,
        guard: OutgoingGuard,
        default_language: Language,
        metrics: Metrics,
        **kwargs: Any,
    ) -> None:
        super().__init__(client, guard=guard, default_language=default_language, **kwargs)
        self._metrics = metrics

    async def handle(self, **turn: Any) -> Reply:
        """DialogueGateway.handle, timed (keyword arguments passed through unchanged)."""
        return await self._timed(super().handle, turn)

    async def trigger(self, **turn: Any) -> Reply:
        """DialogueGateway.trigger, timed like a user turn."""
        return await self._timed(super().trigger, turn)

    async def _timed(self, call: Callable[..., Awaitable[Reply]], turn: dict[str, Any]) -> Reply:
        channel = str(turn.get("channel", "unknown"))
        started = time.perf_counter()
        ok = False
        try:
            reply = await call(**turn)
            ok = True
            return reply
        finally:
            self._metrics.record_turn(channel, time.perf_counter() - started, ok=ok)
