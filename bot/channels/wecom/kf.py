"""微信客服 (kf): external WeChat clients talk with the AI advisor.

A callback only says "there is something new" (kf_msg_or_event). We then page through
kf/sync_msg from a persisted cursor. Each page's messages are written to an inbox together with
the next cursor, in one transaction, and handled afterwards: a crash after fetching loses
nothing (the inbox is drained at start-up), and a message is never stored twice (msgid is unique).
A message is marked done once handled. If the process dies between sending a reply and marking
the message done, that one reply can be sent again after a restart: at-least-once delivery.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections import defaultdict
from collections.abc import Callable
from typing import Any, Protocol

from pydantic import ValidationError

from bot.channels.wecom.client import WeComClient
from bot.channels.wecom.kf_outbound import REPLY_WINDOW_S, KfSender
from bot.channels.wecom.models import ORIGIN_CUSTOMER, ORIGIN_EVENT, KfEvent, KfMessage
from bot.channels.wecom.store import InboxRow, PageMessage, WeComStore
from bot.channels.wecom.texts import WeComTexts
from bot.dialogue.service import DialogueGateway
from bot.errors import ChannelError, DialogueUnavailable, RateLimited
from bot.language import Language

logger = logging.getLogger(__name__)

CHANNEL = "wecom"
WELCOME_WINDOW_S = 20  # a welcome_code is valid for 20 s and only once
STATE_QUEUE, STATE_HUMAN = 2, 3
MAX_PAGES = 1000  # a guard against a server that always says has_more
# How long a process that died while syncing an account keeps others from syncing it.
SYNC_LEASE_S = 120
FIRST_SYNC_HISTORY_S = 600  # the event token's lifetime: older messages were never notified to us
# session_status_change.change_type: 1 picked up, 2 transferred, 3 ended, 4 re-opened by a human.
HUMAN_CHANGES, ENDED_CHANGE = frozenset({1, 2, 4}), 3


class HandoffLinks(Protocol):
    """The advisor's WeCom link for a hand-off (bot.advisor_links.offers.LinkOffers provides it)."""

    async def handoff_line(self, *, conversation_id: str, language: Language) -> str | None:
        """The approved line carrying the link, once per conversation; None: no link to give."""
        ...


class KfService:
    """Fetches kf messages, answers customers through the dialogue gateway, welcomes, hands off."""

    def __init__(
        self,
        *,
        client: WeComClient,
        store: WeComStore,
        gateway: DialogueGateway,
        texts: WeComTexts,
        hotline: str,
        servicer_userid: str | None,
        sync_limit: int,
        max_message_chars: int,
        clock: Callable[[], float],
    ) -> None:
        self._client = client
        self._store = store
        self._gateway = gateway
        self._texts = texts
        self._hotline = hotline
        self._servicer = servicer_userid
        self._sync_limit = sync_limit
        self._max_chars = max_message_chars
        self._clock = clock
        self.sender = KfSender(client=client, store=store, clock=clock)
        self._locks: defaultdict[str, asyncio.Lock] = defaultdict(asyncio.Lock)
        # Set by the app once the advisor links exist (they need this channel's client): None, no link.
        self.handoff_links: HandoffLinks | None = None
        self._owner = uuid.uuid4().hex  # this process's name on the sync leases

    async def on_notice(self, *, open_kfid: str, token: str | None) -> None:
        """Handle a kf_msg_or_event (token=None: a start-up catch-up). One sync at a time per account, in
        this process (a lock) and across the processes sharing the store (a lease): a notice that finds
        the lease held is left to its holder, which syncs once more before letting go. A holder that
        dies keeps it at most SYNC_LEASE_S."""
        async with self._locks[open_kfid]:
            if not await self._store.take_sync(open_kfid, owner=self._owner, now=self._clock(), ttl_s=SYNC_LEASE_S):
                return
            again = True
            while again:
                await self._sync(open_kfid, token)
                token = None  # the event token is single-use; a sync without one works too
                again = await self._store.release_sync(open_kfid, owner=self._owner)

    async def _sync(self, open_kfid: str, token: str | None) -> None:
        try:
            await self._fetch(open_kfid, token)
        except ChannelError as exc:
            logger.warning("kf/sync_msg for %s failed (%s); the next notice resumes at the cursor", open_kfid, exc)
        # Even if fetching failed midway, the pages already stored are handled now.
        await self._drain(open_kfid)

    async def catch_up(self) -> None:
        """After a restart: handle what was fetched but not handled, and what arrived meanwhile."""
        for open_kfid in await self._store.known_kfids():
            await self.on_notice(open_kfid=open_kfid, token=None)

    async def _fetch(self, open_kfid: str, token: str | None) -> None:
        cursor = await self._store.cursor(open_kfid)
        # The very first sync of an account returns up to 3 days of history: what predates the first
        # notice is stored as handled, so a new deployment does not answer yesterday's conversations.
        history_before = self._clock() - FIRST_SYNC_HISTORY_S if cursor is None else None
        for _ in range(MAX_PAGES):
            page = await self._client.kf_sync_msg(
                open_kfid=open_kfid, cursor=cursor, token=token, limit=self._sync_limit
            )
            cursor = page.next_cursor or cursor
            messages = await self._readable(open_kfid, page.msg_list)
            rows = [
                PageMessage(
                    msgid=m.msgid,
                    # Events name the customer inside; keeping them in the customer's lane keeps order.
                    external_userid=m.external_userid or (m.event.external_userid if m.event else None),
                    payload=m.model_dump_json(),
                    history=history_before is not None and m.send_time < history_before,
                )
                for m in messages
            ]
            if cursor:
                await self._store.save_page(open_kfid, cursor=cursor, messages=rows, now=self._clock())
            if not page.has_more:
                return
        logger.error("kf/sync_msg for %s still had more after %d pages", open_kfid, MAX_PAGES)

    async def _readable(self, open_kfid: str, raw: list[dict[str, Any]]) -> list[KfMessage]:
        """Typed messages; one we cannot read is audited and skipped, so it cannot block the cursor."""
        messages = []
        for item in raw:
            try:
                messages.append(KfMessage.model_validate(item))
            except ValidationError as exc:
                await self._audit("kf_unreadable_message", open_kfid, None, f"{exc.errors()[:1]}: {item!r:.500}")
        return messages

    async def _drain(self, open_kfid: str) -> None:
        """Handle pending messages: customers concurrently, each customer's messages in order."""
        by_customer: defaultdict[str, list[InboxRow]] = defaultdict(list)
        for row in await self._store.pending(open_kfid):
            by_customer[row.external_userid or ""].append(row)
        await asyncio.gather(*(self._handle_rows(open_kfid, rows) for rows in by_customer.values()))

    async def _handle_rows(self, open_kfid: str, rows: list[InboxRow]) -> None:
        for row in rows:
            try:
                await self._handle(open_kfid, KfMessage.model_validate_json(row.payload))
            except Exception as exc:
                # Broad on purpose: a message that always fails must not be retried forever nor block
                # the ones after it. It is logged with its traceback, audited, and marked done.
                logger.exception("kf message %s failed", row.msgid)
                await self._audit("kf_handling_failed", open_kfid, row.external_userid, repr(exc))
            await self._store.mark_done(row.msgid, now=self._clock())

    async def _handle(self, open_kfid: str, message: KfMessage) -> None:
        kfid = message.open_kfid or open_kfid
        if message.origin == ORIGIN_CUSTOMER and message.external_userid:
            await self._on_customer(kfid, message.external_userid, message)
        elif message.origin == ORIGIN_EVENT and message.event is not None:
            await self._on_event(kfid, message.event, message.send_time)
        # Origin 5 (a human servicer's own messages) needs nothing from the bot.

    async def _on_customer(self, open_kfid: str, user: str, message: KfMessage) -> None:
        await self._store.record_customer_message(open_kfid, user, at=float(message.send_time))
        state = await self._store.client(open_kfid, user)
        if state is not None and state.human:
            return  # a human has the session; the bot stays quiet
        await self.sender.flush_queue(open_kfid, user)
        if message.send_time < self._clock() - REPLY_WINDOW_S:
            await self._audit("kf_too_old_to_answer", open_kfid, user, message.msgid)
            return
        if message.msgtype != "text" or message.text is None:
            await self.sender.send_text(open_kfid, user, self._texts.non_text)
            return
        text = message.text.content.strip()[: self._max_chars]
        if not text:
            return
        if self._texts.asks_for_human(text):
            await self.hand_off(open_kfid=open_kfid, external_userid=user, reason="customer asked")
            return
        await self._answer(open_kfid, user, text, message.msgid)

    async def _answer(self, open_kfid: str, user: str, text: str, msgid: str) -> None:
        try:
            reply = await self._gateway.handle(
                channel=CHANNEL,
                sender_id=user,
                text=text,
                metadata={"open_kfid": open_kfid, "wecom_msgid": msgid},
                request_id=msgid,
            )
        except RateLimited as exc:
            await self.sender.send_text(open_kfid, user, exc.message)
            return
        except DialogueUnavailable as exc:
            logger.warning("dialogue unavailable for kf customer: %s", exc)
            await self.sender.send_text(open_kfid, user, self._texts.busy_text(self._hotline))
            return
        # One kf message per turn: each send spends one of the 5 WeCom allows.
        body = reply.as_text()
        handoff = any(m.kind == "handoff" for m in reply.messages)
        if handoff and self.handoff_links is not None:  # the advisor's WeCom link, in the same message
            line = await self.handoff_links.handoff_line(conversation_id=reply.conversation_id, language=reply.language)
            body = "\n\n".join(part for part in (body, line) if part)
        if body:
            await self.sender.send_text(open_kfid, user, body)
        if handoff:
            await self.hand_off(open_kfid=open_kfid, external_userid=user, reason="dialogue", notify=False)

    async def _on_event(self, open_kfid: str, event: KfEvent, send_time: int) -> None:
        user = event.external_userid
        if event.event_type == "enter_session" and event.welcome_code:
            await self._welcome(open_kfid, user, event.welcome_code, send_time)
        elif event.event_type == "session_status_change" and user and event.change_type is not None:
            if event.change_type in HUMAN_CHANGES:
                await self._store.set_human(open_kfid, user, True)
            elif event.change_type == ENDED_CHANGE:
                await self._store.set_human(open_kfid, user, False)
        elif event.event_type == "msg_send_fail":
            await self._audit("kf_msg_send_fail", open_kfid, user, f"{event.fail_msgid} type {event.fail_type}")

    async def _welcome(self, open_kfid: str, user: str | None, code: str, send_time: int) -> None:
        """The AI disclosure, through the event's one-time code, within its 20 s."""
        now = self._clock()
        if not await self._store.claim(f"welcome:{code}", now=now):
            await self._audit("kf_welcome_code_reused", open_kfid, user, code)
            return
        if now - send_time > WELCOME_WINDOW_S:
            await self._audit("kf_welcome_expired", open_kfid, user, f"{now - send_time:.0f}s late")
            return
        try:
            await self._client.kf_send_text_on_event(code=code, content=self._texts.welcome)
        except ChannelError as exc:
            await self._audit("kf_welcome_failed", open_kfid, user, str(exc))

    async def hand_off(self, *, open_kfid: str, external_userid: str, reason: str, notify: bool = True) -> bool:
        """Give the session to a human (state 3 with the configured servicer, else WeCom's queue)."""
        state = STATE_HUMAN if self._servicer else STATE_QUEUE
        try:
            code = await self._client.kf_trans_state(
                open_kfid=open_kfid,
                external_userid=external_userid,
                service_state=state,
                servicer_userid=self._servicer,
            )
        except ChannelError as exc:
            await self._audit("kf_handoff_failed", open_kfid, external_userid, f"{reason}: {exc}")
            await self.sender.send_text(open_kfid, external_userid, self._texts.busy_text(self._hotline))
            return False
        await self._store.set_human(open_kfid, external_userid, True)
        await self._audit("kf_handoff", open_kfid, external_userid, f"state {state}: {reason}")
        if notify and code:
            try:
                await self._client.kf_send_text_on_event(code=code, content=self._texts.handoff_notice)
            except ChannelError as exc:
                await self._audit("kf_handoff_notice_failed", open_kfid, external_userid, str(exc))
        return True

    async def _audit(self, kind: str, open_kfid: str, user: str | None, detail: str) -> None:
        await self._store.audit(kind, now=self._clock(), open_kfid=open_kfid, external_userid=user, detail=detail)
