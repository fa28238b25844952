"""Sending to kf customers within WeCom's limit: 5 messages within 48 h of the customer's last message.

Over the 5: the text is queued and delivered when the customer writes again (which resets the
count). Past 48 h: dropped, since WeCom would refuse it anyway. Both leave an audit entry.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from bot.channels.wecom.client import WeComClient
from bot.channels.wecom.errors import DeliveryUnknown, WeComApiError
from bot.channels.wecom.store import WeComStore
from bot.channels.wecom.texts import split_text
from bot.errors import ChannelError

logger = logging.getLogger(__name__)

REPLY_WINDOW_S = 48 * 3600
MAX_REPLIES = 5
# errcode 95018: "send msg session status invalid": a human (or the queue) owns the session.
SESSION_STATE_ERRCODES = frozenset({95018})


class KfSender:
    """Sends text to one customer at a time, spending, queueing or dropping against the budget."""

    def __init__(self, *, client: WeComClient, store: WeComStore, clock: Callable[[], float]) -> None:
        self._client = client
        self._store = store
        self._clock = clock

    async def send_text(self, open_kfid: str, external_userid: str, text: str) -> int:
        """Send `text` (split into WeCom-sized pieces); returns how many pieces WeCom accepted."""
        sent = 0
        for piece in split_text(text):
            outcome = await self._send_piece(open_kfid, external_userid, piece, queue_over_quota=True)
            if outcome == "window_closed":
                break
            sent += outcome == "sent"
        return sent

    async def flush_queue(self, open_kfid: str, external_userid: str) -> None:
        """Deliver what the limit held back, oldest first; drop what aged past the 48 h window."""
        for queued in await self._store.queued(open_kfid, external_userid):
            now = self._clock()
            if queued.created_at < now - REPLY_WINDOW_S:
                await self._store.set_queued_status(queued.id, "dropped")
                await self._audit("kf_queue_expired", open_kfid, external_userid, queued.content)
                continue
            outcome = await self._send_piece(open_kfid, external_userid, queued.content, queue_over_quota=False)
            if outcome in {"quota", "window_closed"}:
                return  # still held back: stays queued
            await self._store.set_queued_status(queued.id, "sent" if outcome == "sent" else "dropped")

    async def _send_piece(self, open_kfid: str, external_userid: str, piece: str, *, queue_over_quota: bool) -> str:
        """One send: 'sent', 'queued', 'quota', 'window_closed', 'unknown' or 'failed'."""
        now = self._clock()
        verdict = await self._store.reserve_send(
            open_kfid, external_userid, now=now, window_s=REPLY_WINDOW_S, limit=MAX_REPLIES
        )
        if verdict == "window_closed":
            await self._audit("kf_dropped_window_closed", open_kfid, external_userid, piece)
            return "window_closed"
        if verdict == "quota":
            if not queue_over_quota:
                return "quota"
            await self._store.enqueue(open_kfid, external_userid, piece, now=now)
            await self._audit("kf_queued_over_limit", open_kfid, external_userid, piece)
            return "queued"
        try:
            await self._client.kf_send_text(open_kfid=open_kfid, external_userid=external_userid, content=piece)
        except DeliveryUnknown as exc:
            # Not retried (it may have arrived); the reservation stays spent, as if it had.
            await self._audit("kf_delivery_unknown", open_kfid, external_userid, f"{exc}: {piece}")
            return "unknown"
        except WeComApiError as exc:
            await self._store.release_send(open_kfid, external_userid)
            if exc.errcode in SESSION_STATE_ERRCODES:
                await self._store.set_human(open_kfid, external_userid, True)
            await self._audit("kf_send_refused", open_kfid, external_userid, f"{exc}: {piece}")
            return "failed"
        except ChannelError as exc:
            await self._store.release_send(open_kfid, external_userid)
            await self._audit("kf_send_failed", open_kfid, external_userid, f"{exc}: {piece}")
            return "failed"
        return "sent"

    async def _audit(self, kind: str, open_kfid: str, external_userid: str, detail: str) -> None:
        logger.info("kf %s for %s", kind, external_userid)
        await self._store.audit(
            kind, now=self._clock(), open_kfid=open_kfid, external_userid=external_userid, detail=detail
        )
