"""`advisor campaign run`: an async worker placing due calls through a CallProvider, within limits.

Limits: at most `max_concurrent_calls` calls in flight (counted in the database, so status callbacks
free slots) and `calls_per_second` (a token bucket). State is durable (see attempts.py): a crash and
restart neither skips a client nor dials one attempt twice. Database work runs in threads.
The run drives the campaign's lifecycle (lifecycle.py): planned → running → completed, and it stops
dialling, once the calls in flight end, when an operator pauses the campaign.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections import Counter, deque
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any, Protocol, TypeVar

from pydantic import BaseModel, Field
from sqlalchemy.orm import Session, sessionmaker
from tqdm import tqdm

from bot.campaigns import attempts, lifecycle
from bot.campaigns.attempts import Claimed
from bot.campaigns.models import Campaign, CampaignClient
from bot.campaigns.provider import CallProvider, CallRequest
from bot.campaigns.rules import CampaignRules
from bot.db import transaction
from bot.errors import CallRefusedError, InputError, ProviderUnavailableError
from bot.settings import Settings

logger = logging.getLogger(__name__)
T = TypeVar("T")
_BATCH = 200
_LEASE = timedelta(seconds=90)
_DRY_RUN_CHECKS = 1000  # a dry run re-checks this many due clients one by one and counts the rest


class Clock(Protocol):
    """Time for the dialer; tests pass a virtual clock."""

    def now(self) -> datetime: ...

    def monotonic(self) -> float: ...

    async def sleep(self, seconds: float) -> None: ...


class SystemClock:
    """Wall-clock time and real sleeps."""

    def now(self) -> datetime:
        return datetime.now(UTC)

    def monotonic(self) -> float:
        return time.monotonic()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


class TokenBucket:
    """Calls per second with no bursts: each call gets the next slot, 1/rate after the previous one.

    Slots follow an ideal schedule (not "last call + interval"), so the rate holds over a run instead
    of drifting below it by the loop's own overhead; a slot missed while idle is not saved up.
    """

    def __init__(self, rate: float, clock: Clock) -> None:
        self.interval = 1.0 / rate
        self.clock = clock
        self._next = clock.monotonic()
        self._slot = self._next

    async def ready(self) -> None:
        """Wait until a call may be made (without taking the slot)."""
        delay = self._next - self.clock.monotonic()
        if delay > 0:
            await self.clock.sleep(delay)
        # The slot starts when it became usable, so work done after ready() (the claim) does not slow the rate.
        self._slot = max(self._next, self.clock.monotonic())

    def take(self) -> None:
        self._next = self._slot + self.interval


class RunSummary(BaseModel):
    """What one run did."""

    campaign_id: int
    dry_run: bool
    dialed: int = 0
    placed: int = 0
    failed: int = 0
    refused: int = 0
    recovered_unknown: int = 0
    skipped: dict[str, int] = Field(default_factory=dict)
    would_dial_count: int = 0
    would_dial: list[dict[str, Any]] = Field(default_factory=list)  # the first 50, for a dry run's listing
    # A dry run's waiting clients by planned call time (UTC) and time zone: [{at, timezone, clients}].
    scheduled: list[dict[str, Any]] = Field(default_factory=list)
    remaining: int = 0
    status: str = ""  # the campaign's status after the run (paused when an operator paused it)
    elapsed_s: float = 0.0
    calls_per_second: float | None = None
    first_call_at: float | None = Field(default=None, exclude=True)
    last_call_at: float | None = Field(default=None, exclude=True)


def webhook_urls(base_url: str, attempt_id: int) -> tuple[str, str]:
    base = base_url.rstrip("/")
    return f"{base}/voice/answer?attempt={attempt_id}", f"{base}/voice/status?attempt={attempt_id}"


async def run_campaign(
    *,
    sessions: sessionmaker[Session],
    provider: CallProvider,
    settings: Settings,
    campaign_id: int,
    clock: Clock | None = None,
    dry_run: bool = False,
    progress: bool = True,
    max_concurrent: int | None = None,
    cps: float | None = None,
) -> RunSummary:
    """Dial every due client of the campaign; return when none is due and no call is in flight."""
    clock = clock or SystemClock()

    def db(fn: Callable[[Session], T]) -> Any:
        def work() -> T:
            with transaction(sessions) as session:
                return fn(session)

        return asyncio.to_thread(work)

    rules = await db(lambda s: attempts.rules_of(s, campaign_id))
    summary = RunSummary(campaign_id=campaign_id, dry_run=dry_run)
    if dry_run:
        return await db(lambda s: _dry_run(s, summary, provider=provider, now=clock.now()))
    started = clock.monotonic()
    owner = uuid.uuid4().hex
    await db(partial(attempts.acquire_lease, campaign_id=campaign_id, owner=owner, now=clock.now(), ttl=_LEASE))
    try:
        await db(lambda s: lifecycle.started(_campaign(s, campaign_id)))
    except InputError:
        await db(partial(attempts.release_lease, campaign_id=campaign_id, owner=owner))
        raise
    try:
        return await _run(
            db, summary, provider=provider, settings=settings, clock=clock, owner=owner, started=started,
            rules=rules, progress=progress, max_concurrent=max_concurrent, cps=cps,
        )  # fmt: skip
    finally:
        await db(partial(attempts.release_lease, campaign_id=campaign_id, owner=owner))


async def _run(
    db: Callable[[Callable[[Session], Any]], Any],
    summary: RunSummary,
    *,
    provider: CallProvider,
    settings: Settings,
    clock: Clock,
    owner: str,
    started: float,
    rules: CampaignRules,
    progress: bool,
    max_concurrent: int | None,
    cps: float | None,
) -> RunSummary:
    """The dialling loop, run while holding the campaign's lease."""
    config = settings.campaigns
    campaign_id = summary.campaign_id
    base_url = settings.voice_base_url
    lease_renewed = clock.monotonic()
    summary.recovered_unknown = await db(lambda s: attempts.recover(s, campaign_id=campaign_id, now=clock.now()))
    limit = max_concurrent or config.max_concurrent_calls
    bucket = TokenBucket(cps or config.calls_per_second, clock)
    stale = timedelta(seconds=config.stale_call_after_s)
    total = await db(lambda s: attempts.remaining(s, campaign_id=campaign_id))
    bar = tqdm(total=total, disable=not progress, unit="call", desc=f"campaign {campaign_id}")
    tasks: set[asyncio.Task[None]] = set()
    queue: deque[int] = deque()
    skipped: Counter[str] = Counter()
    try:
        while True:
            _raise_crashed(tasks)
            if clock.monotonic() - lease_renewed > _LEASE.total_seconds() / 3:
                await db(partial(attempts.acquire_lease, campaign_id=campaign_id, owner=owner, now=clock.now(),
                                 ttl=_LEASE))  # fmt: skip
                lease_renewed = clock.monotonic()
            live, status = await db(
                lambda s: attempts.loop_state(s, campaign_id=campaign_id, now=clock.now(), stale_after=stale)
            )
            if status != "running":  # paused by an operator: no new calls; the ones in flight end normally
                queue.clear()
                if live == 0 and not tasks:
                    break
                await clock.sleep(config.poll_interval_s)
                continue
            if live >= limit:
                await clock.sleep(min(config.poll_interval_s, 0.2))
                continue
            if not queue:
                queue.extend(
                    await db(lambda s: attempts.due_clients(s, campaign_id=campaign_id, now=clock.now(), limit=_BATCH))
                )
            if not queue:
                if live == 0 and not tasks:
                    break
                await clock.sleep(config.poll_interval_s)
                continue
            row_id = queue.popleft()
            await bucket.ready()
            outcome = await db(
                partial(attempts.claim, client_row_id=row_id, rules=rules, provider=provider, now=clock.now())
            )
            if not isinstance(outcome, Claimed):
                skipped[outcome.reason] += 1
                continue
            bucket.take()
            summary.dialed += 1
            stamp = clock.monotonic()
            summary.first_call_at = summary.first_call_at if summary.first_call_at is not None else stamp
            summary.last_call_at = stamp
            bar.update(1)
            task = asyncio.create_task(_place(outcome, base_url, provider, settings, summary, clock, db))
            tasks.add(task)
    finally:
        bar.close()
        pending = [t for t in tasks if not t.done()]
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
    summary.skipped = dict(skipped)
    summary.remaining = await db(lambda s: attempts.remaining(s, campaign_id=campaign_id))
    summary.status = await db(lambda s: _finish(s, campaign_id, summary.remaining))
    summary.elapsed_s = round(clock.monotonic() - started, 3)
    if summary.dialed > 1 and summary.first_call_at is not None and summary.last_call_at is not None:
        span = summary.last_call_at - summary.first_call_at
        summary.calls_per_second = round((summary.dialed - 1) / span, 4) if span > 0 else None
    return summary


def _raise_crashed(tasks: set[asyncio.Task[None]]) -> None:
    """A call task that died of an unexpected error stops the run (like a crash: state stays durable)."""
    for task in list(tasks):
        if task.done():
            tasks.discard(task)
            if not task.cancelled() and task.exception() is not None:
                raise task.exception()  # type: ignore[misc]


async def _place(
    claimed: Claimed,
    base_url: str,
    provider: CallProvider,
    settings: Settings,
    summary: RunSummary,
    clock: Clock,
    db: Callable[[Callable[[Session], Any]], Any],
) -> None:
    """Hand one committed attempt to the provider, once, and record what it said."""
    answer_url, status_url = webhook_urls(base_url, claimed.attempt_id)
    request = CallRequest(
        to=claimed.phone, answer_url=answer_url, status_url=status_url, machine_detection=True,
        ring_timeout_s=settings.telephony.ring_timeout_s, time_limit_s=settings.telephony.time_limit_s,
        metadata={"idempotency_key": claimed.idempotency_key, "attempt_id": str(claimed.attempt_id)},
    )  # fmt: skip
    try:
        placed = await provider.place_call(request)
    except (CallRefusedError, ProviderUnavailableError) as exc:
        refused = isinstance(exc, CallRefusedError)
        error = str(exc)
        if refused:
            summary.refused += 1
        else:
            logger.warning("attempt %s: provider failed: %s", claimed.attempt_id, error)
            summary.failed += 1

        def failed(session: Session) -> None:
            attempts.mark_failed(session, attempt_id=claimed.attempt_id, error=error, refused=refused, now=clock.now())

        await db(failed)
        return
    summary.placed += 1
    await db(lambda s: attempts.mark_placed(s, attempt_id=claimed.attempt_id, placed=placed, now=clock.now()))


def _campaign(session: Session, campaign_id: int) -> Campaign:
    campaign = session.get(Campaign, campaign_id, with_for_update=True)
    if campaign is None:
        raise LookupError(f"no campaign {campaign_id}")
    return campaign


def _finish(session: Session, campaign_id: int, remaining: int) -> str:
    campaign = _campaign(session, campaign_id)
    lifecycle.finished(campaign, remaining=remaining)
    return campaign.status


def _dry_run(session: Session, summary: RunSummary, *, provider: CallProvider, now: datetime) -> RunSummary:
    """What a run would do now, changing nothing."""
    rules = attempts.rules_of(session, summary.campaign_id)
    verdicts: Counter[str] = Counter()
    due = attempts.due_clients(session, campaign_id=summary.campaign_id, now=now, limit=_DRY_RUN_CHECKS + 1)
    if len(due) > _DRY_RUN_CHECKS:
        total = attempts.count_due(session, campaign_id=summary.campaign_id, now=now)
        verdicts["due_not_checked"] = total - _DRY_RUN_CHECKS
        due = due[:_DRY_RUN_CHECKS]
    for row_id in due:
        client = session.get(CampaignClient, row_id)
        if client is None:
            continue
        reason = attempts.check(session, client, rules=rules, provider=provider, now=now)
        verdicts[reason or "would_dial"] += 1
        if reason is None and len(summary.would_dial) < 50:
            summary.would_dial.append(
                {"client_id": client.client_id, "arm": client.arm, "segment": client.segment,
                 "priority": client.priority, "attempt_no": client.attempts + 1, "script_id": client.script_id,
                 "next_call_at": client.next_call_at, "timezone": client.timezone}
            )  # fmt: skip
    summary.skipped = {k: v for k, v in verdicts.items() if k != "would_dial"}
    summary.would_dial_count = verdicts["would_dial"]
    summary.dialed = 0
    summary.remaining = attempts.remaining(session, campaign_id=summary.campaign_id)
    summary.scheduled = attempts.scheduled(session, campaign_id=summary.campaign_id, after=now)
    campaign = session.get(Campaign, summary.campaign_id)
    summary.status = campaign.status if campaign else ""
    return summary
