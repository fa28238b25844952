"""Offering a client their advisor's WeCom link: the entry points the dialogue calls.

On a call: `offer_for_call` says whether there is an advisor to offer and gives the approved question
(`offer_after_interest`: only once the call recorded the client's interest, and only to a client who never
answered it before); the bot asks it and passes the answer to `answer_on_call`, then says `call_reply`. Only a
yes texts the link, once per campaign client (a no is recorded and blocks any later text for that
campaign). In a chat (web hand-off, 微信客服): `for_chat` gives the link and the approved line that
carries it, to show as a QR code or send; `for_handoff` does so for the advisor of the conversation's lead.

The advisor is the client row's `advisor_id`, else the one the lead rules choose (leads.assignment:
segment team, then roster), so the link names the advisor who will follow the client up.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.advisor_links.links import AdvisorLinks
from bot.advisor_links.models import AdvisorLink
from bot.advisor_links.texts import GuardBlocked, LinkTexts, TextName
from bot.campaigns.calls import CallContext, call_context
from bot.campaigns.models import CampaignAttempt
from bot.channels.voice.offers import CallOffer
from bot.db import utcnow
from bot.errors import ChannelError, InputError
from bot.language import Language
from bot.leads.assignment import LeadRouting
from bot.leads.models import Lead
from bot.messaging.models import Consent, TextMessage, TextRead
from bot.messaging.service import TextMessages

logger = logging.getLogger(__name__)
PURPOSE = "advisor_link"
OPEN_LEAD_STATUSES = ("new", "contacted")
OfferStatus = Literal["declined", "refused", "sending", "sent", "failed", "unknown", "link_unavailable"]


@dataclass(frozen=True)
class OfferResult:
    """What came of the client's answer: the text's status (and row), the link, or why there is none."""

    status: OfferStatus
    text: TextRead | None = None
    link: AdvisorLink | None = None
    reason: str | None = None


@dataclass(frozen=True)
class ChatLink:
    """An advisor's link for a chat: the link (url = the QR code's image URL) and the approved line."""

    link: AdvisorLink
    text: str


def offer_key(campaign_id: int, client_id: str) -> str:
    """One advisor-link text per campaign client: retries, repeats and later attempts share it."""
    return f"{PURPOSE}:{campaign_id}:{client_id}"


@dataclass(frozen=True)
class AnsweredCall:
    """A campaign client's latest answered call, and whether the link was offered to them yet."""

    client_id: str
    attempt_id: int
    call_sid: str
    offered: bool


def answered_calls(session: Session, *, campaign_id: int) -> list[AnsweredCall]:
    """Clients of the campaign a person answered, with their latest such call (for `advisor wecom offer`)."""
    rows = session.execute(
        select(CampaignAttempt.client_id, CampaignAttempt.id, CampaignAttempt.call_sid)
        .where(
            CampaignAttempt.campaign_id == campaign_id,
            CampaignAttempt.state.in_(("in-progress", "completed")),
            CampaignAttempt.call_sid.is_not(None),
            CampaignAttempt.voicemail.is_(False),
        )
        .order_by(CampaignAttempt.client_id, CampaignAttempt.attempt_no.desc())
    ).all()
    offered = set(session.scalars(select(TextMessage.idempotency_key).where(TextMessage.campaign_id == campaign_id)))
    latest = {client_id: (attempt_id, sid) for client_id, attempt_id, sid in reversed(rows)}
    return [
        AnsweredCall(client_id, attempt_id, str(sid), offer_key(campaign_id, client_id) in offered)
        for client_id, (attempt_id, sid) in sorted(latest.items())
    ]


class LinkOffers:
    """The advisor-link offer on calls and in chats."""

    def __init__(
        self,
        *,
        sessions: sessionmaker[Session],
        links: AdvisorLinks,
        texts: LinkTexts,
        messages: TextMessages,
        routing: LeadRouting | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._sessions = sessions
        self._routing = routing
        self.links = links
        self._texts = texts
        self._messages = messages
        self._clock = clock

    async def answered(self, campaign_id: int) -> list[AnsweredCall]:
        """The campaign's clients a person answered (latest call each), and whether they were offered the link."""

        def read() -> list[AnsweredCall]:
            with self._sessions() as session:
                return answered_calls(session, campaign_id=campaign_id)

        return await asyncio.to_thread(read)

    def offer_text(self, language: Language, advisor_id: str) -> str:
        """The approved question ("shall I text you your advisor's WeCom link?") in the client's language."""
        return self._texts.render("offer", language, advisor_id=advisor_id)

    async def _context(self, attempt_id: int) -> tuple[CallContext, str | None]:
        """The call's context and the client's advisor (row, else the lead rules); InputError if no attempt."""

        def read() -> tuple[CallContext | None, str | None]:
            with self._sessions() as session:
                ctx = call_context(session, attempt_id=attempt_id)
                if ctx is None or ctx.advisor_id or self._routing is None:
                    return ctx, ctx.advisor_id if ctx else None
                return ctx, self._routing.choose(session, self._routing.known(session, ctx.client_id))[0]

        ctx, advisor = await asyncio.to_thread(read)
        if ctx is None:
            raise InputError(f"no call attempt {attempt_id}")
        return ctx, advisor

    async def offer_for_call(self, attempt_id: int) -> CallOffer | None:
        """What to ask on this call (the approved question naming the advisor); None: no advisor, do not offer."""
        ctx, advisor = await self._context(attempt_id)
        if advisor is None:
            return None
        return CallOffer(attempt_id, advisor, ctx.lang, self.offer_text(ctx.lang, advisor))

    async def offer_after_interest(self, *, attempt_id: int, call_sid: str) -> CallOffer | None:
        """The offer to make now on this call, or None: only once the call recorded the client's interest
        (a product_interest lead of this conversation), and only to a campaign client who never answered it
        (an earlier yes or no of the same campaign blocks a second question), with an advisor to name."""
        offer = await self.offer_for_call(attempt_id)
        if offer is None:
            return None

        def not_now() -> bool:
            with self._sessions() as session:
                ctx = call_context(session, attempt_id=attempt_id)
                interested = session.scalar(
                    select(Lead.id).where(
                        Lead.conversation_id == f"voice:{call_sid}"[:128], Lead.type == "product_interest"
                    )
                )
                key = offer_key(ctx.campaign_id, ctx.client_id) if ctx else ""
                asked = session.scalar(select(TextMessage.id).where(TextMessage.idempotency_key == key))
                return interested is None or asked is not None

        return None if await asyncio.to_thread(not_now) else offer

    def call_reply(self, result: OfferResult, *, language: Language, advisor_id: str) -> str:
        """What the call says after the client's answer: sent, not sent as asked, or could not be sent."""
        if result.status in ("sent", "sending"):
            return self._texts.render("call_sent", language, advisor_id=advisor_id)
        name: TextName = "call_declined" if result.status == "declined" else "call_unavailable"
        return self._texts.render(name, language, advisor_id=advisor_id)

    async def answer_on_call(
        self, *, attempt_id: int, call_sid: str, accepted: bool, words: str, advisor_id: str | None = None
    ) -> OfferResult:
        """The client's answer to the offer on this call: a yes texts the link (once), a no is recorded.

        `advisor_id`: the advisor the question named (CallOffer.advisor_id); default: chosen as offer_for_call does.

        Idempotent: a repeated answer (a retried webhook, a second yes or a later attempt of the same
        campaign) returns what the first one did and sends nothing. Refusals are results, not errors:
        do-not-contact, a number the provider may not text (+86 on Twilio), no provider, or no link
        (WeCom down, quota reached, no advisor). Raises InputError only for an unknown attempt.
        """
        ctx, chosen = await self._context(attempt_id)
        advisor = advisor_id or chosen
        key = offer_key(ctx.campaign_id, ctx.client_id)
        earlier = await self._messages.get(key)
        if earlier is not None:
            return OfferResult(status=earlier.status, text=earlier, reason=earlier.reason)
        if advisor is None:
            reason = f"client {ctx.client_id} has no advisor (client list advisor_id, leads.assignment)"
            return OfferResult(status="link_unavailable", reason=reason)
        consent = Consent(
            offer=self.offer_text(ctx.lang, advisor), accepted=accepted, words=words[:2000], at=self._clock(),
            channel="voice", conversation=f"voice:{call_sid}"[:128],
        )  # fmt: skip
        link, body = None, ""
        if accepted:
            try:
                link = await self.links.for_attempt(attempt_id, advisor_id=advisor)
            except ChannelError as exc:  # WeCom down or the quota reached: nothing to send
                logger.warning("no advisor link for attempt %s: %s", attempt_id, exc)
                return OfferResult(status="link_unavailable", reason=str(exc))
            body = self._texts.render("sms", ctx.lang, advisor_id=advisor, link=link.url)
        text = await self._messages.send(
            key=key, purpose=PURPOSE, to=ctx.phone, body=body, client_key=ctx.client_id, consent=consent,
            campaign_id=ctx.campaign_id, attempt_id=attempt_id,
        )  # fmt: skip
        return OfferResult(status=text.status, text=text, link=link, reason=text.reason)

    async def for_handoff(self, *, conversation_id: str, language: Language) -> ChatLink | None:
        """The advisor's link to show with a chat's hand-off (web, 微信客服), once per conversation.

        The advisor is the one the conversation's open lead names (client list or lead rules). None when
        no open lead names one, when this conversation's link was shown before (WeCom gave it earlier), or
        when no link can be had now (WeCom down, quota reached): the hand-off then goes on without it.
        """

        def lead() -> tuple[str, str, int | None, str | None] | None:
            with self._sessions() as session:
                row = session.execute(
                    select(Lead.client_key, Lead.advisor_id, Lead.campaign_id, Lead.linked_client_id)
                    .where(
                        Lead.conversation_id == conversation_id[:128],
                        Lead.status.in_(OPEN_LEAD_STATUSES),
                        Lead.advisor_id.is_not(None),
                    )
                    .order_by(Lead.id.desc())
                    .limit(1)
                ).first()
                return (row[0], str(row[1]), row[2], row[3]) if row is not None else None

        found = await asyncio.to_thread(lead)
        if found is None:
            return None
        client_key, advisor_id, campaign_id, client_id = found
        try:
            chat = await self.for_chat(
                conversation_id=conversation_id, client_key=client_key, advisor_id=advisor_id, language=language,
                campaign_id=campaign_id, client_id=client_id,
            )  # fmt: skip
        except (InputError, ChannelError, GuardBlocked) as exc:
            logger.warning("no advisor link for the hand-off of %s: %s", conversation_id, exc)
            return None
        return None if chat.link.reused else chat

    async def handoff_line(self, *, conversation_id: str, language: Language) -> str | None:
        """The approved line carrying the advisor's link for a text-only hand-off (微信客服), or None."""
        chat = await self.for_handoff(conversation_id=conversation_id, language=language)
        return chat.text if chat is not None else None

    async def for_chat(
        self,
        *,
        conversation_id: str,
        client_key: str,
        advisor_id: str,
        language: Language,
        campaign_id: int | None = None,
        client_id: str | None = None,
    ) -> ChatLink:
        """The advisor's link for this conversation and the approved line carrying it (web and kf hand-off).

        Raises InputError (missing ids), LinkQuotaReached or ChannelError (WeCom failed): the hand-off
        then goes on without a link.
        """
        link = await self.links.for_conversation(
            conversation_id=conversation_id, client_key=client_key, advisor_id=advisor_id, language=language,
            campaign_id=campaign_id, client_id=client_id,
        )  # fmt: skip
        return ChatLink(link=link, text=self._texts.render("chat_link", language, advisor_id=advisor_id, link=link.url))
