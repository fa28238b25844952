"""Several Rasa servers behind one app: each turn goes to the next healthy replica.

Rasa's production shape is N replicas sharing one tracker store (PostgreSQL) and one lock store
(Redis): any replica can then serve any turn of any conversation, in order, so turns need no
stickiness. A background check asks each replica's /status every `check_interval_s`; one that fails
(or has no model loaded) gets no turns until it passes again. A turn whose replica refuses the
connection is sent to the next one: the message never reached Rasa, so nothing is said twice. Any
other failure (a timeout, a reset mid-answer) is not retried, because that replica may have handled
the turn; the channel degrades as when Rasa is down.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import httpx

from bot.dialogue.client import RasaClient
from bot.errors import DialogueUnavailable

logger = logging.getLogger(__name__)


@dataclass
class Replica:
    """One Rasa server and what its last health check found."""

    url: str
    client: RasaClient
    healthy: bool = True  # optimistic until the first check: a fresh app must not refuse turns
    model: str | None = None
    error: str | None = None
    turns: int = 0  # turns this replica answered (shown by /readyz: how the load is spread)


def _never_reached(exc: DialogueUnavailable) -> bool:
    """True when the request could not have reached Rasa (so sending it elsewhere is safe)."""
    return isinstance(exc.__cause__, httpx.ConnectError | httpx.ConnectTimeout)


class RasaReplicas:
    """The dialogue engine as one client: `send`, `status` and `aclose`, spread over `urls`."""

    def __init__(
        self,
        urls: Sequence[str],
        *,
        token: str | None,
        timeout_s: float,
        check_interval_s: float = 2.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        if not urls:
            raise ValueError("RasaReplicas needs at least one URL")
        self.replicas = [
            Replica(url, RasaClient(url, token=token, timeout_s=timeout_s, transport=transport)) for url in urls
        ]
        self._interval = check_interval_s
        self._next = 0
        self._checker: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Check the replicas' health in the background (only worth it with more than one)."""
        if len(self.replicas) > 1 and self._checker is None:
            self._checker = asyncio.create_task(self._check_forever(), name="rasa-replica-health")

    async def check(self) -> None:
        """Ask every replica's /status once, concurrently, and record which can take turns."""
        await asyncio.gather(*(self._check(replica) for replica in self.replicas))

    async def _check(self, replica: Replica) -> None:
        try:
            status = await replica.client.status()
        except DialogueUnavailable as exc:
            if replica.healthy:
                logger.warning("rasa replica %s failed its health check: %s", replica.url, exc)
            replica.healthy, replica.model, replica.error = False, None, str(exc)
            return
        model = str(status.get("model_file") or "") or None
        if not replica.healthy and model:
            logger.info("rasa replica %s is healthy again", replica.url)
        replica.healthy, replica.model = bool(model), model
        replica.error = None if model else "no model loaded"

    async def _check_forever(self) -> None:
        while True:
            await self.check()
            await asyncio.sleep(self._interval)

    def _order(self) -> list[Replica]:
        """Healthy replicas first, round robin; the others last, in case every check is stale."""
        start = self._next % len(self.replicas)
        self._next += 1
        rotated = self.replicas[start:] + self.replicas[:start]
        return [r for r in rotated if r.healthy] + [r for r in rotated if not r.healthy]

    async def send(self, sender_id: str, text: str, metadata: dict[str, Any]) -> list[dict[str, Any]]:
        """One user turn on the next healthy replica; another one only if this one was never reached."""
        error: DialogueUnavailable | None = None
        for replica in self._order():
            try:
                messages = await replica.client.send(sender_id, text, metadata)
            except DialogueUnavailable as exc:
                if not _never_reached(exc):
                    raise
                replica.healthy, error = False, exc  # skipped until its health check passes again
                if len(self.replicas) > 1:
                    logger.warning("rasa replica %s unreachable; trying the next one", replica.url)
                continue
            replica.turns += 1
            return messages
        assert error is not None
        raise error

    async def status(self) -> dict[str, Any]:
        """Checks every replica now: the first ready one's model, and each replica's health."""
        await self.check()
        ready = [r for r in self.replicas if r.healthy]
        if not ready:
            raise DialogueUnavailable("; ".join(f"{r.url}: {r.error}" for r in self.replicas))
        return {"model_file": ready[0].model, "replicas": self.health()}

    def health(self) -> list[dict[str, Any]]:
        """Each replica's URL and last health check (for /healthz and /readyz)."""
        return [{"url": r.url, "healthy": r.healthy, "model": r.model, "turns": r.turns} for r in self.replicas]

    async def aclose(self) -> None:
        if self._checker is not None:
            self._checker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._checker
        for replica in self.replicas:
            await replica.client.aclose()
