"""The advisors' 「联系我」 links: one per campaign client or conversation, reused, kept within WeCom's quota.

Durability follows the dialer's pattern: a row is committed in state `creating` before add_contact_way is
called, then completed with the config_id WeCom answers, so every link WeCom created can be updated or
deleted later. An ambiguous failure leaves the row `unknown` (it may exist; never retried blindly).

Reuse. A campaign client's link is reused by every later attempt of that campaign with the same advisor
(its state names the first attempt; campaign, client and arm are the same), and a conversation's link by
the rest of that conversation. Quota. WeCom allows 500,000 API-configured 「联系我」 per corp, shared with
其他应用 and 「加入群聊」; `contact_way_quota` is this app's share. Links expire after
`contact_way_ttl_days` and are deleted by `cleanup` (run every `contact_way_cleanup_s` when links are
made, when the quota is reached, and by `advisor wecom links --cleanup`). WeCom's own temporary mode
(is_temp) is not used: it is reserved to medical-industry corps.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol, TypeVar

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker

from bot.advisor_links.models import LIVE_STATUSES, AdvisorLink, ContactWayLink, LinkUsage
from bot.advisor_links.state import StateKind, StateSigner
from bot.campaigns.calls import call_context
from bot.channels.wecom.errors import DeliveryUnknown, WeComApiError
from bot.channels.wecom.models import ContactWay
from bot.contacts.portable import insert_or_ignore
from bot.db import transaction, utcnow
from bot.errors import ChannelError, InputError
from bot.language import Language

logger = logging.getLogger(__name__)
T = TypeVar("T")
CLEANUP_BATCH = 500
_WAIT_FOR_PEER_S = 5.0  # a concurrent request creating the same attempt's link


class ContactWayApi(Protocol):
    """The WeCom calls links need (bot.channels.wecom.client.WeComClient provides them)."""

    async def add_contact_way(
        self, *, user: str, state: str, skip_verify: bool, remark: str | None = None
    ) -> ContactWay: ...

    async def update_contact_way(self, *, config_id: str, user: str | None = None) -> None: ...

    async def del_contact_way(self, *, config_id: str) -> None: ...


class LinkQuotaReached(ChannelError):
    """No new link: this app's share of WeCom's 「联系我」 quota is used up (even after cleaning up)."""


@dataclass(frozen=True)
class LinkPolicy:
    """Quota, lifetime and verification of new links (channels.wecom.contact_way_*)."""

    quota: int
    ttl: timedelta
    skip_verify: bool
    cleanup_every: timedelta


@dataclass(frozen=True)
class _Plan:
    """A link to create: the row is written, its state signed."""

    row_id: int
    advisor_id: str
    state: str
    remark: str


class AdvisorLinks:
    """Gets or creates an advisor's link for a campaign attempt or a conversation; updates, deletes, cleans up."""

    def __init__(
        self,
        *,
        sessions: sessionmaker[Session],
        api: ContactWayApi,
        signer: StateSigner,
        policy: LinkPolicy,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._sessions = sessions
        self._api = api
        self._signer = signer
        self._policy = policy
        self._clock = clock
        self._last_cleanup: datetime | None = None

    async def _tx(self, work: Callable[[Session], T]) -> T:
        def run() -> T:
            with transaction(self._sessions) as session:
                return work(session)

        return await asyncio.to_thread(run)

    # -- getting a link ---------------------------------------------------------------------------

    async def for_attempt(self, attempt_id: int, *, advisor_id: str | None = None) -> AdvisorLink:
        """The link of `advisor_id` (default: the client row's advisor) for the attempt's client; state
        `a<attempt>` (or an earlier attempt's of the same client and advisor, reused).

        Raises InputError (no such attempt, no advisor), LinkQuotaReached, ChannelError (WeCom failed).
        """

        def plan(session: Session) -> AdvisorLink | _Plan | None:
            ctx = call_context(session, attempt_id=attempt_id)
            if ctx is None:
                raise InputError(f"no call attempt {attempt_id}")
            advisor = advisor_id or ctx.advisor_id
            if not advisor:
                raise InputError(f"client {ctx.client_id} of campaign {ctx.campaign_id} has no advisor_id")
            reusable = self._live().where(
                ContactWayLink.campaign_id == ctx.campaign_id,
                ContactWayLink.client_id == ctx.client_id,
                ContactWayLink.advisor_id == advisor,
            )
            found = session.scalars(reusable.order_by(ContactWayLink.id)).first()
            if found is not None:
                return _read(found, reused=True)
            state = self._signer.sign("a", attempt_id)
            values = self._row(
                "a", advisor, state=state, campaign_id=ctx.campaign_id, attempt_id=attempt_id,
                client_id=ctx.client_id, client_key=ctx.client_id, language=ctx.lang,
            )  # fmt: skip
            if not insert_or_ignore(session, ContactWayLink, values, conflict=("state",)):
                return None  # this attempt's link exists already (being created, or expired)
            row_id = session.scalar(select(ContactWayLink.id).where(ContactWayLink.state == state))
            assert row_id is not None
            return _Plan(row_id, advisor, state, f"campaign {ctx.campaign_id} {ctx.client_id}")

        return await self._get_or_create(plan, peer_state=self._signer.sign("a", attempt_id))

    async def for_conversation(
        self,
        *,
        conversation_id: str,
        client_key: str,
        advisor_id: str,
        language: Language = "zh",
        campaign_id: int | None = None,
        client_id: str | None = None,
    ) -> AdvisorLink:
        """The advisor's link for one conversation (web or kf hand-off), state `c<link id>`, reused by it.

        `campaign_id` and `client_id`, when the conversation is a known campaign client's, let a friend-add
        through it count as that client's outcome. Raises InputError, LinkQuotaReached or ChannelError.
        """
        if not conversation_id.strip() or not client_key.strip() or not advisor_id.strip():
            raise InputError("a conversation link needs conversation_id, client_key and advisor_id")

        def plan(session: Session) -> AdvisorLink | _Plan:
            reusable = self._live().where(
                ContactWayLink.conversation_id == conversation_id, ContactWayLink.advisor_id == advisor_id
            )
            found = session.scalars(reusable.order_by(ContactWayLink.id)).first()
            if found is not None:
                return _read(found, reused=True)
            values = self._row(
                "c", advisor_id, state=None, campaign_id=campaign_id, client_id=client_id,
                conversation_id=conversation_id[:128], client_key=client_key[:128], language=language,
            )  # fmt: skip
            row = ContactWayLink(**values)
            session.add(row)
            session.flush()
            row.state = self._signer.sign("c", row.id)
            return _Plan(row.id, advisor_id, row.state, f"conversation {row.id}")

        return await self._get_or_create(plan, peer_state=None)

    async def _get_or_create(
        self, plan: Callable[[Session], AdvisorLink | _Plan | None], *, peer_state: str | None
    ) -> AdvisorLink:
        await self._maybe_cleanup()
        await self._check_quota()
        planned = await self._tx(plan)
        if isinstance(planned, AdvisorLink):
            return planned
        if planned is None:
            assert peer_state is not None
            return await self._wait_for_peer(peer_state)
        return await self._create(planned)

    async def _create(self, plan: _Plan) -> AdvisorLink:
        """add_contact_way for a committed `creating` row; the row records what WeCom answered."""
        try:
            way = await self._api.add_contact_way(
                user=plan.advisor_id, state=plan.state, skip_verify=self._policy.skip_verify, remark=plan.remark
            )
        except DeliveryUnknown as exc:
            await self._settle(plan.row_id, status="unknown", error=str(exc))
            raise
        except ChannelError as exc:  # WeComApiError, or transient failures that never reached WeCom
            # WeCom made no link: the state is freed, so the next request for this attempt can try again.
            await self._settle(plan.row_id, status="failed", error=f"{plan.state}: {exc}", free_state=True)
            raise

        def done(session: Session) -> AdvisorLink:
            row = session.get(ContactWayLink, plan.row_id)
            assert row is not None
            row.config_id, row.qr_code, row.status, row.updated_at = way.config_id, way.qr_code, "active", self._clock()
            return _read(row)

        link = await self._tx(done)
        logger.info("WeCom link %s created for advisor %s (state %s)", link.id, link.advisor_id, link.state)
        return link

    async def _wait_for_peer(self, state: str) -> AdvisorLink:
        """Another request is creating this attempt's link: wait for it rather than make a second one."""
        deadline = asyncio.get_running_loop().time() + _WAIT_FOR_PEER_S
        while True:
            row = await self._tx(lambda s: s.scalar(select(ContactWayLink).where(ContactWayLink.state == state)))
            if row is not None and row.status == "active" and row.expires_at > self._clock():
                return _read(row, reused=True)
            if row is None or row.status != "creating" or asyncio.get_running_loop().time() > deadline:
                why = row.status if row is not None else "missing"
                raise ChannelError(f"the link with state {state} is not available ({why}); try again later")
            await asyncio.sleep(0.1)

    # -- quota and cleanup ------------------------------------------------------------------------

    def _live(self) -> Any:
        return select(ContactWayLink).where(
            ContactWayLink.status == "active", ContactWayLink.expires_at > self._clock()
        )

    def _row(self, kind: StateKind, advisor_id: str, **values: Any) -> dict[str, Any]:
        now = self._clock()
        return {"kind": kind, "advisor_id": advisor_id, "status": "creating", "created_at": now, "updated_at": now,
                "expires_at": now + self._policy.ttl, **values}  # fmt: skip

    async def usage(self) -> LinkUsage:
        """Links counting against the quota (creating, active, unknown), and those already expired."""

        def count(session: Session) -> LinkUsage:
            rows = session.execute(select(ContactWayLink.status, func.count()).group_by(ContactWayLink.status)).all()
            expired = session.scalar(
                select(func.count()).where(
                    ContactWayLink.status.in_(("active", "unknown")), ContactWayLink.expires_at <= self._clock()
                )
            )
            by_status = {str(s): int(n) for s, n in rows}
            live = sum(n for s, n in by_status.items() if s in LIVE_STATUSES)
            return LinkUsage(live=live, quota=self._policy.quota, expired=int(expired or 0), by_status=by_status)

        return await self._tx(count)

    async def _check_quota(self) -> None:
        used = await self.usage()
        if used.live < self._policy.quota:
            return
        await self.cleanup()
        used = await self.usage()
        if used.live >= self._policy.quota:
            raise LinkQuotaReached(
                f"WeCom 「联系我」 links: {used.live} of {used.quota} in use (channels.wecom.contact_way_quota); "
                "none can be made until some expire (contact_way_ttl_days) and are cleaned up, or the quota is raised "
                "(WeCom allows 500,000 per corp, shared with 加入群聊 and other apps)"
            )

    async def _maybe_cleanup(self) -> None:
        now = self._clock()
        if self._last_cleanup is None or now - self._last_cleanup >= self._policy.cleanup_every:
            self._last_cleanup = now
            try:
                await self.cleanup()
            except ChannelError as exc:  # cleaning up can wait; a link for this client cannot
                logger.warning("WeCom link cleanup failed: %s", exc)

    async def cleanup(self) -> int:
        """Delete expired links in WeCom (frees quota); returns how many are now deleted.

        An expired `unknown` link has no config_id to delete by: it stops counting (find it in WeCom's
        list_contact_way by its state if it must go). A refused delete keeps the link live and is retried.
        """
        now = self._clock()
        expired = await self._tx(
            lambda s: [
                (r.id, r.config_id, r.status)
                for r in s.scalars(
                    select(ContactWayLink)
                    .where(ContactWayLink.status.in_(("active", "unknown")), ContactWayLink.expires_at <= now)
                    .limit(CLEANUP_BATCH)
                )
            ]
        )
        deleted = 0
        for row_id, config_id, status in expired:
            if status == "active" and config_id:
                try:
                    await self._api.del_contact_way(config_id=config_id)
                except WeComApiError as exc:
                    logger.warning("WeCom refused to delete link %s: %s", row_id, exc)
                    await self._settle(row_id, status="active", error=str(exc))
                    continue
            await self._settle(row_id, status="deleted", error=None if status == "active" else "expired, never known")
            deleted += 1
        if deleted:
            logger.info("WeCom links cleaned up: %d expired link(s) deleted", deleted)
        return deleted

    async def reassign(self, *, from_advisor: str, to_advisor: str) -> int:
        """Point every live link of one advisor at another (update_contact_way), e.g. when one leaves."""
        query = self._live().where(ContactWayLink.advisor_id == from_advisor)
        rows = await self._tx(lambda s: [(r.id, r.config_id) for r in s.scalars(query)])
        for row_id, config_id in rows:
            await self._api.update_contact_way(config_id=config_id, user=to_advisor)
            await self._settle(row_id, status="active", error=None, advisor_id=to_advisor)
        return len(rows)

    async def _settle(
        self, row_id: int, *, status: str, error: str | None, free_state: bool = False, **values: Any
    ) -> None:
        """Record what became of a link; a failed one frees its state so the request can be made again."""
        now = self._clock()
        values |= {"status": status, "error": error, "updated_at": now}
        if status == "deleted":
            values["deleted_at"] = now
        if free_state:
            values["state"] = None
        await self._tx(lambda s: s.execute(update(ContactWayLink).where(ContactWayLink.id == row_id).values(**values)))


def _read(row: ContactWayLink, *, reused: bool = False) -> AdvisorLink:
    assert row.state is not None and row.config_id is not None
    return AdvisorLink(
        id=row.id, advisor_id=row.advisor_id, state=row.state, config_id=row.config_id, url=row.qr_code or "",
        expires_at=row.expires_at, reused=reused,
    )  # fmt: skip
