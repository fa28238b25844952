"""OutboxWorker: the app's background task that pushes lead events to the CRM webhook.

Each event is POSTed with `X-Signature: sha256=<hex HMAC-SHA256 of the body>` and
`X-Idempotency-Key: <event id>`; a 2xx marks it delivered, anything else (error status, timeout,
refused connection) schedules a retry with capped exponential backoff and jitter, honouring
`Retry-After`. Nothing is ever dropped: an event stays in the outbox until the CRM acknowledges it.
All database work runs in worker threads so the event loop never blocks.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import logging
import random
from collections.abc import Callable
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit

import httpx
from sqlalchemy.orm import Session, sessionmaker

from bot.db import transaction, utcnow
from bot.errors import ConfigError
from bot.leads import outbox
from bot.leads.outbox import ClaimedEvent
from bot.settings import CRMSettings

logger = logging.getLogger(__name__)


def sign(secret: str, body: bytes) -> str:
    """The X-Signature header value: what the CRM recomputes (with compare_digest) to trust the body."""
    return "sha256=" + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


def _retry_after_s(value: str | None, now: datetime) -> float | None:
    """Retry-After as seconds: either delta-seconds or an HTTP date."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, (parsedate_to_datetime(value) - now).total_seconds())
    except (TypeError, ValueError):
        return None


class OutboxWorker:
    """Delivers due outbox events to the CRM until each is acknowledged; disabled without a webhook URL."""

    def __init__(
        self,
        *,
        sessions: sessionmaker[Session],
        webhook_url: str | None,
        secret: str | None,
        timeout_s: float = 5.0,
        initial_backoff_s: float = 2.0,
        max_backoff_s: float = 300.0,
        poll_interval_s: float = 2.0,
        batch_size: int = 50,
        transport: httpx.AsyncBaseTransport | None = None,
        clock: Callable[[], datetime] = utcnow,
        rng: Callable[[], float] = random.random,
    ) -> None:
        if webhook_url:
            parts = urlsplit(webhook_url)
            if parts.scheme not in {"http", "https"} or not parts.netloc:
                raise ConfigError(f"leads.crm.webhook_url must be an http(s) URL, got {webhook_url!r}")
            if not secret:
                raise ConfigError(
                    "leads.crm.webhook_url is set but the signing secret is not: set ADVISOR_LEADS__CRM__SECRET"
                )
        for name, value in (("timeout_s", timeout_s), ("max_backoff_s", max_backoff_s)):
            if value <= 0:
                raise ConfigError(f"leads.crm.{name} must be positive, got {value}")
        self._sessions = sessions
        self._url = webhook_url or None
        self._secret = secret or ""
        self._initial_backoff_s = initial_backoff_s
        self._max_backoff_s = max_backoff_s
        self._poll_interval_s = poll_interval_s
        self._batch_size = batch_size
        # A lease outlives one POST (connect + write + read + pool timeouts), so no other worker resends it.
        self._lease_s = 4 * timeout_s + 30
        self._clock = clock
        self._rng = rng
        self._client = (
            httpx.AsyncClient(transport=transport, timeout=httpx.Timeout(timeout_s), follow_redirects=False)
            if self._url
            else None
        )
        self._task: asyncio.Task[None] | None = None
        self._stop = asyncio.Event()

    @classmethod
    def from_settings(
        cls,
        crm: CRMSettings,
        *,
        sessions: sessionmaker[Session],
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> OutboxWorker:
        """Build from `settings.leads.crm`; raises ConfigError naming the bad key."""
        return cls(
            sessions=sessions,
            webhook_url=crm.webhook_url,
            secret=crm.secret.get_secret_value() if crm.secret else None,
            timeout_s=crm.timeout_s,
            initial_backoff_s=crm.initial_backoff_s,
            max_backoff_s=crm.max_backoff_s,
            poll_interval_s=crm.poll_interval_s,
            batch_size=crm.batch_size,
            transport=transport,
        )

    @property
    def enabled(self) -> bool:
        return self._url is not None

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    async def start(self) -> None:
        """Start the background task (no-op when disabled or already running). One start per worker."""
        if not self.enabled:
            logger.info("CRM push disabled (leads.crm.webhook_url is empty); lead events stay in the outbox")
            return
        if self.running:
            return
        if self._client is None or self._client.is_closed:
            raise RuntimeError("OutboxWorker cannot be restarted after aclose(); build a new one")
        self._stop = asyncio.Event()
        self._task = asyncio.create_task(self._run(), name="crm-outbox")

    async def aclose(self) -> None:
        """Stop after the delivery in flight (bounded by the HTTP timeout), then close the client."""
        self._stop.set()
        if self._task is not None:
            done, _ = await asyncio.wait({self._task}, timeout=self._lease_s)
            if not done:
                self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self._client is not None:
            await self._client.aclose()

    async def _run(self) -> None:
        while not self._stop.is_set():
            full_batch = False
            try:
                full_batch = await self.deliver_due() >= self._batch_size
            except Exception:
                # A database hiccup must not kill the worker: nothing is lost (events stay in the
                # outbox), so log it and try again at the next poll.
                logger.exception("CRM outbox pass failed; retrying in %.1fs", self._poll_interval_s)
            if full_batch:
                continue  # a backlog: keep draining without waiting
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), timeout=self._poll_interval_s)

    async def deliver_due(self) -> int:
        """One pass: send due events in order; stop at the first failure (the CRM is likely down)."""
        if self._client is None:
            return 0  # disabled: events wait in the outbox until a webhook URL is configured
        ids = await asyncio.to_thread(self._due_ids)
        delivered = 0
        for outbox_id in ids:
            if self._stop.is_set():
                break
            event = await asyncio.to_thread(self._claim, outbox_id)
            if event is None:
                continue  # another worker holds it
            if not await self._send(self._client, event):
                break
            delivered += 1
        return delivered

    async def _send(self, client: httpx.AsyncClient, event: ClaimedEvent) -> bool:
        assert self._url is not None
        body = event.payload.encode("utf-8")
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "X-Signature": sign(self._secret, body),
            "X-Idempotency-Key": event.event_id,
        }
        retry_after: float | None = None
        try:
            response = await client.post(self._url, content=body, headers=headers)
        except httpx.HTTPError as exc:
            error = f"{type(exc).__name__}: {exc}"
        else:
            if response.is_success:
                await asyncio.to_thread(self._mark_delivered, event.id)
                return True
            error = f"HTTP {response.status_code}: {response.text[:200]}"
            retry_after = _retry_after_s(response.headers.get("Retry-After"), self._clock())
        delay = outbox.backoff_delay(
            event.attempts, initial_s=self._initial_backoff_s, cap_s=self._max_backoff_s, rng=self._rng
        )
        if retry_after is not None:
            delay = max(delay, min(retry_after, self._max_backoff_s))
        await asyncio.to_thread(self._mark_failed, event.id, delay, error)
        log = logger.error if event.attempts >= 5 else logger.warning
        log(
            "CRM push of event %s failed (attempt %d); retry in %.1fs: %s", event.event_id, event.attempts, delay, error
        )
        return False

    # Blocking database steps, each its own short transaction, run via asyncio.to_thread.

    def _due_ids(self) -> list[int]:
        with self._sessions() as session:
            return outbox.due_ids(session, now=self._clock(), limit=self._batch_size)

    def _claim(self, outbox_id: int) -> ClaimedEvent | None:
        with transaction(self._sessions) as session:
            return outbox.claim(session, outbox_id=outbox_id, now=self._clock(), lease_s=self._lease_s)

    def _mark_delivered(self, outbox_id: int) -> None:
        with transaction(self._sessions) as session:
            outbox.mark_delivered(session, outbox_id=outbox_id, now=self._clock())

    def _mark_failed(self, outbox_id: int, delay_s: float, error: str) -> None:
        with transaction(self._sessions) as session:
            retry_at = self._clock() + timedelta(seconds=delay_s)
            outbox.mark_failed(session, outbox_id=outbox_id, retry_at=retry_at, error=error)
