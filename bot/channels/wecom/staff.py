"""The advisors' self-built app: product facts, approved scripts and "my leads" for bank staff.

Staff text goes through the same dialogue gateway as clients, under channel "wecom_staff" so their
conversations never mix with a client's. "My leads" is answered by a LeadsProvider; until the leads
module exists, LeadsNotYetAvailable says so.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Protocol

from bot.channels.wecom.client import WeComClient
from bot.channels.wecom.errors import DeliveryUnknown
from bot.channels.wecom.store import WeComStore
from bot.channels.wecom.texts import WeComTexts, split_text
from bot.dialogue.service import DialogueGateway
from bot.errors import ChannelError, DialogueUnavailable, RateLimited

logger = logging.getLogger(__name__)

CHANNEL = "wecom_staff"


class LeadsProvider(Protocol):
    """Hook for "my leads": the leads module implements it and is passed as WeComRuntime(leads=...)."""

    async def leads_for(self, advisor_userid: str) -> str:
        """A ready-to-send summary of the leads assigned to this advisor (their WeCom userid)."""
        ...


class LeadsNotYetAvailable:
    """The stand-in until the leads module exists: a polite "not available yet"."""

    def __init__(self, message: str) -> None:
        self._message = message

    async def leads_for(self, advisor_userid: str) -> str:
        return self._message


class StaffService:
    """Answers advisors; the runtime decides between a passive reply and message/send."""

    def __init__(
        self,
        *,
        client: WeComClient,
        store: WeComStore,
        gateway: DialogueGateway,
        texts: WeComTexts,
        leads: LeadsProvider,
        agent_id: int,
        hotline: str,
        max_message_chars: int,
        clock: Callable[[], float],
    ) -> None:
        self._client = client
        self._store = store
        self._gateway = gateway
        self._texts = texts
        self._leads = leads
        self._agent_id = agent_id
        self._hotline = hotline
        self._max_chars = max_message_chars
        self._clock = clock

    @property
    def non_text_reply(self) -> str:
        return self._texts.staff_non_text

    async def answer(self, *, userid: str, text: str, msg_id: str | None) -> list[str]:
        """The reply as WeCom-sized pieces; degrades to the busy text when the dialogue engine is down."""
        text = text.strip()[: self._max_chars]
        if not text:
            return []
        if self._texts.asks_for_leads(text):
            return split_text(await self._leads.leads_for(userid))
        try:
            reply = await self._gateway.handle(channel=CHANNEL, sender_id=userid, text=text, request_id=msg_id)
        except RateLimited as exc:
            return [exc.message]
        except DialogueUnavailable as exc:
            logger.warning("dialogue unavailable for staff: %s", exc)
            return [self._texts.busy_text(self._hotline)]
        return split_text(reply.as_text())

    async def deliver(self, *, userid: str, pieces: list[str]) -> None:
        """Send an answer by message/send; a failure is audited, never retried blindly."""
        for piece in pieces:
            try:
                await self._client.app_send_text(agent_id=self._agent_id, touser=userid, content=piece)
            except DeliveryUnknown as exc:
                await self._audit("staff_delivery_unknown", userid, f"{exc}: {piece}")
            except ChannelError as exc:
                await self._audit("staff_send_failed", userid, f"{exc}: {piece}")
                return

    async def _audit(self, kind: str, userid: str, detail: str) -> None:
        logger.warning("staff %s for %s", kind, userid)
        await self._store.audit(kind, now=self._clock(), external_userid=userid, detail=detail)
