"""The voice conversation: Twilio webhook forms in, TwiML out, every turn through the dialogue gateway.

A failure never drops the call: a slow or failed turn becomes a canned, compliant line and the caller is
asked again. Per-call state (silences so far, an offer awaiting its answer) rides in the signed action
URL, so any app instance can answer any turn.

After interest, before the transfer (or the booked callback), a campaign client is offered their advisor's
WeCom link by text message (bot/advisor_links, approved wording): the very next answer decides, read
strictly (bot/dialogue/yes_no.py). Only a yes texts the link; a no is kept. Either way, and when the answer
is silence or about something else (the dialogue answers it, the offer lapses), the interested caller goes
on to the advisor as before.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from datetime import datetime, time, timedelta
from time import monotonic as time_monotonic
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from sqlalchemy.exc import SQLAlchemyError

from bot.campaigns.calls import CallContext
from bot.catalogue import CatalogueProduct, catalogue_for
from bot.channels.voice import twiml
from bot.channels.voice.models import AnswerForm, DialForm, GatherForm, StatusForm
from bot.channels.voice.offers import CallLinkOffers, CallOffer
from bot.channels.voice.openings import ApprovedOpenings
from bot.channels.voice.speech import shorten, speakable
from bot.channels.voice.store import CallStore, Outcome
from bot.channels.voice.texts import VoiceLines, VoiceTexts
from bot.core.messages import BotMessage
from bot.dialogue.service import DialogueGateway
from bot.dialogue.when import parse_callback_time
from bot.dialogue.yes_no import yes_or_no
from bot.errors import AdvisorError, DialogueUnavailable
from bot.language import Language
from bot.settings import TelephonySettings

logger = logging.getLogger(__name__)
_HINTS_TTL_S = 60.0
CHANNEL = "voice"
_AI_MARKERS = ("AI", "人工智能", "artificial intelligence")
OPENING_INTENT = "call_start"  # triggered by us (never by what a caller says): the disclosure and the opening
_CONTEXT_METADATA = ("client_id", "phone", "risk_level", "campaign_id", "script_id", "segment", "arm", "attempt_id")


class VoiceService:
    """Answers Twilio's voice webhooks for campaign calls."""

    def __init__(
        self,
        *,
        gateway: DialogueGateway,
        store: CallStore,
        texts: VoiceTexts,
        settings: TelephonySettings,
        public_base_url: str,
        hotline: str,
        openings: ApprovedOpenings | None = None,
        now: Callable[[], datetime] | None = None,
        catalogue: Callable[[], Sequence[CatalogueProduct]] | None = None,
        link_offers: CallLinkOffers[Any] | None = None,
    ) -> None:
        self._gateway = gateway
        self._store = store
        self._texts = texts
        self._settings = settings
        self._base = public_base_url.rstrip("/")
        self._hotline = hotline
        self._openings = openings
        self._tz = ZoneInfo(settings.timezone)
        self._now = now or (lambda: datetime.now(self._tz))
        self._catalogue = catalogue  # the live catalogue, for <Gather hints>
        self._hint_cache: tuple[float, list[str]] | None = None
        self._offers = link_offers  # the advisor's WeCom link by text (None: never offered)

    # -- webhooks ---------------------------------------------------------------------------------

    async def answer(self, form: AnswerForm, *, attempt_id: int) -> str:
        """Machine: the voicemail script once. Person: disclosure + opening from Rasa, then listen."""
        ctx = await self._context(attempt_id)
        if ctx is None:
            logger.warning("voice answer for unknown attempt %s (call %s)", attempt_id, form.call_sid)
            return twiml.hangup([self._texts.zh.closing], voice=self._voice("zh"))
        lines = self._lines(ctx)
        if form.is_machine:
            await self._record(attempt_id=attempt_id, outcome=Outcome(voicemail=True))
            return twiml.hangup([lines.voicemail.replace("{hotline}", self._hotline)], voice=self._voice(ctx.lang))
        metadata: dict[str, Any] = {k: getattr(ctx, k) for k in _CONTEXT_METADATA if getattr(ctx, k) is not None}
        messages = await self._dialogue(form.call_sid, None, ctx, metadata)
        if not messages:
            return self._listen([lines.fallback_opening], ctx, silence=0)
        return self._listen(self._speak(self._with_approved_opening(messages, ctx)), ctx, silence=0)

    async def turn(self, form: GatherForm, *, attempt_id: int, silence: int, offer: str | None = None) -> str:
        """What the caller said goes to Rasa; silence gets one reprompt, then a polite goodbye.

        `offer`: the advisor whose link the previous turn offered; this turn answers that offer."""
        ctx = await self._context(attempt_id)
        if ctx is None:
            return twiml.hangup([self._texts.zh.closing], voice=self._voice("zh"))
        lines, voice = self._lines(ctx), self._voice(ctx.lang)
        speech = form.speech_result.strip()
        if offer is not None:
            return await self._offer_answered(form.call_sid, speech, ctx, lines, advisor_id=offer)
        if not speech:
            if silence >= 1:
                return twiml.hangup([lines.silence_goodbye.replace("{hotline}", self._hotline)], voice=voice)
            return self._listen([lines.reprompt], ctx, silence=silence + 1)
        messages = await self._dialogue(form.call_sid, speech, ctx, {"attempt_id": attempt_id})
        if messages is None:
            return self._listen([lines.degraded], ctx, silence=0)
        return await self._route(messages, ctx, speech=speech, lines=lines, call_sid=form.call_sid)

    async def dial_done(self, form: DialForm, *, attempt_id: int) -> str:
        """After a transfer: if no advisor answered, the lead stands and a callback is booked."""
        ctx = await self._context(attempt_id)
        language: Language = ctx.lang if ctx else "zh"
        if form.dial_call_status in {"completed", "answered"}:
            return twiml.hangup([], voice=self._voice(language))
        await self._record(attempt_id=attempt_id, outcome=Outcome(callback_at=self._next_desk_time()))
        lines = self._lines(ctx) if ctx else self._texts.zh
        return twiml.hangup([lines.transfer_failed], voice=self._voice(language))

    async def status(self, form: StatusForm, *, attempt_id: int) -> bool:
        """Record a status callback; a duplicate (Twilio retries) changes nothing and returns False."""
        return await self._store.status(
            attempt_id=attempt_id,
            call_sid=form.call_sid,
            status=form.call_status,
            answered_by=form.answered_by,
            duration_s=form.call_duration,
        )

    # -- the turn ---------------------------------------------------------------------------------

    async def _dialogue(
        self, call_sid: str, speech: str | None, ctx: CallContext, metadata: dict[str, Any]
    ) -> list[BotMessage] | None:
        """One time-boxed Rasa turn (the caller's speech, or our call opening when None); None when it
        failed or took too long (the caller gets a canned line)."""
        turn: dict[str, Any] = {"channel": CHANNEL, "sender_id": call_sid, "metadata": metadata, "language": ctx.lang}
        call = (
            self._gateway.handle(text=speech, **turn)
            if speech is not None
            else self._gateway.trigger(intent=OPENING_INTENT, **turn)
        )
        try:
            reply = await asyncio.wait_for(call, timeout=self._settings.turn_timeout_s)
        except (TimeoutError, DialogueUnavailable) as exc:
            logger.warning("voice turn degraded for call %s: %r", call_sid, exc)
            return None
        return reply.messages

    async def _route(
        self,
        messages: list[BotMessage],
        ctx: CallContext,
        *,
        speech: str,
        lines: VoiceLines,
        call_sid: str,
        interested: bool = False,
    ) -> str:
        """End, book a callback, offer the advisor's link, transfer, or keep listening, by what Rasa decided.

        `interested`: the caller's interest already stands (the link was offered): go on to the advisor
        rather than listen, and never offer twice."""
        texts, voice = self._speak(messages), self._voice(ctx.lang)
        kinds = {m.kind for m in messages}
        if "opt_out" in kinds:
            await self._record(attempt_id=ctx.attempt_id, outcome=Outcome(engaged=True, opted_out=True))
            return twiml.hangup(texts, voice=voice)
        if any(m.end_conversation for m in messages):
            await self._record(attempt_id=ctx.attempt_id, outcome=Outcome(engaged=True))
            return twiml.hangup(texts, voice=voice)
        if "callback" in kinds:
            # The time the dialogue booked (and the lead carries) is the one the call records.
            when = _booked(messages) or parse_callback_time(speech, self._now()) or self._next_desk_time()
            await self._record(attempt_id=ctx.attempt_id, outcome=Outcome(engaged=True, callback_at=when))
            return twiml.hangup([*texts, lines.closing], voice=voice)
        if "handoff" in kinds or interested:
            offer = None if interested else await self._link_offer(ctx, call_sid)
            if offer is not None:  # the transfer waits for the answer
                await self._record(attempt_id=ctx.attempt_id, outcome=Outcome(engaged=True))
                return self._listen([*texts, offer.text], ctx, silence=0, offer=offer.advisor_id)
            return await self._hand_off(texts, ctx, lines)
        await self._record(attempt_id=ctx.attempt_id, outcome=Outcome(engaged=True))
        return self._listen(texts or [lines.reprompt], ctx, silence=0)

    async def _hand_off(self, texts: list[str], ctx: CallContext, lines: VoiceLines) -> str:
        """To the advisor: a transfer in transfer hours, else a callback booked at the desk's next opening."""
        voice = self._voice(ctx.lang)
        number = self._transfer_number(ctx)
        if number is not None:
            await self._record(attempt_id=ctx.attempt_id, outcome=Outcome(engaged=True, transferred=True))
            url = self._url("/voice/dial", attempt=ctx.attempt_id)
            return twiml.transfer([*texts, lines.transfer], voice=voice, number=number, caller_id=None, action_url=url)
        when = self._next_desk_time()
        await self._record(attempt_id=ctx.attempt_id, outcome=Outcome(engaged=True, callback_at=when))
        promise = lines.callback_booked.format(when=_spoken_time(when, ctx.lang))  # the one promise: when
        return twiml.hangup([*texts, promise, lines.closing], voice=voice)

    # -- the advisor's WeCom link ------------------------------------------------------------------

    async def _link_offer(self, ctx: CallContext, call_sid: str) -> CallOffer | None:
        """The offer to make now (None: no offers configured, no interest recorded, asked before, no
        advisor); a failure to tell only skips the offer."""
        if self._offers is None:
            return None
        try:
            return await self._offers.offer_after_interest(attempt_id=ctx.attempt_id, call_sid=call_sid)
        except (AdvisorError, SQLAlchemyError):
            logger.exception("link offer for attempt %s skipped", ctx.attempt_id)
            return None

    async def _offer_answered(
        self, call_sid: str, speech: str, ctx: CallContext, lines: VoiceLines, *, advisor_id: str
    ) -> str:
        """The turn right after the offer: yes or no is recorded (a yes texts the link) and said; then, as
        for anything else, the interested caller goes on to the advisor."""
        answer = yes_or_no(speech) if self._offers is not None else None
        if answer is None:  # silence, or something else: the offer lapses unrecorded; the dialogue answers
            messages = await self._dialogue(call_sid, speech, ctx, {"attempt_id": ctx.attempt_id}) if speech else []
            if not messages:
                return await self._hand_off([], ctx, lines)
            return await self._route(messages, ctx, speech=speech, lines=lines, call_sid=call_sid, interested=True)
        assert self._offers is not None
        said: list[str] = []
        try:
            result = await self._offers.answer_on_call(
                attempt_id=ctx.attempt_id, call_sid=call_sid, accepted=answer == "yes", words=speech,
                advisor_id=advisor_id,
            )  # fmt: skip
            said.append(self._offers.call_reply(result, language=ctx.lang, advisor_id=advisor_id))
        except (AdvisorError, SQLAlchemyError):
            logger.exception("answer to the link offer on attempt %s NOT recorded", ctx.attempt_id)
        return await self._hand_off(said, ctx, lines)

    def _with_approved_opening(self, messages: list[BotMessage], ctx: CallContext) -> list[BotMessage]:
        """Rasa's call_opening message, worded by the campaign's approved script (verbatim) when there is one."""
        if self._openings is None:
            return messages
        approved = self._openings.line(ctx.script_id, ctx.lang, today=self._now().astimezone(self._tz).date())
        if approved is None:
            return messages
        # Approved call scripts open with their own AI disclosure and recording notice; saying the chat
        # disclosure first as well would make the caller wait ~15 s more before the first question.
        discloses = any(marker in approved for marker in _AI_MARKERS)
        return [
            m.model_copy(update={"text": approved}) if m.kind == "call_opening" else m
            for m in messages
            if not (discloses and m.kind == "ai_disclosure")
        ]

    # -- the store: a database failure must not drop a live call -----------------------------------

    async def _context(self, attempt_id: int) -> CallContext | None:
        try:
            return await self._store.context(attempt_id)
        except (AdvisorError, SQLAlchemyError):
            logger.exception("call context for attempt %s unavailable; ending the call politely", attempt_id)
            return None

    async def _record(self, *, attempt_id: int, outcome: Outcome) -> None:
        try:
            await self._store.outcome(attempt_id=attempt_id, outcome=outcome)
        except (AdvisorError, SQLAlchemyError):
            logger.exception("outcome of attempt %s NOT recorded: %s", attempt_id, outcome)

    # -- helpers ----------------------------------------------------------------------------------

    def _listen(self, texts: list[str], ctx: CallContext, *, silence: int, offer: str | None = None) -> str:
        query: dict[str, int | str] = {"attempt": ctx.attempt_id, "silence": silence}
        if offer is not None:
            query["offer"] = offer
        url = self._url("/voice/turn", **query)
        return twiml.gather(texts, voice=self._voice(ctx.lang), action_url=url, hints=self._hints(ctx))

    def _hints(self, ctx: CallContext) -> str:
        """The call's own phrases, then the live catalogue's product names (short names first), bounded.
        The catalogue is read at most once a minute (a webhook must answer fast)."""
        now = time_monotonic()
        if self._catalogue is not None and (self._hint_cache is None or now - self._hint_cache[0] > _HINTS_TTL_S):
            products = tuple(self._catalogue())
            self._hint_cache = (now, catalogue_for(products).speech_hints() if products else [])
        names = self._hint_cache[1] if self._hint_cache else []
        return bounded_hints([*self._lines(ctx).hints.split(","), *names], self._settings.max_hint_chars)

    def _speak(self, messages: list[BotMessage]) -> list[str]:
        """Speakable and short; an approved opening script is never cut (it is spoken verbatim)."""
        limit = self._settings.max_speech_chars
        texts = (m.text if m.kind == "call_opening" else shorten(speakable(m.text), limit) for m in messages)
        return [t for t in texts if t]

    def _lines(self, ctx: CallContext) -> VoiceLines:
        return self._texts.lines(ctx.lang, ctx.script_id)

    def _voice(self, language: Language) -> twiml.Voice:
        return twiml.Voice(language, self._settings.voice_zh if language == "zh" else self._settings.voice_en)

    def _url(self, path: str, **query: int | str) -> str:
        return f"{self._base}{path}?{urlencode(query)}"

    def _hours(self) -> tuple[time, time]:
        start, end = self._settings.transfer_hours.split("-")
        return time.fromisoformat(start.strip()), time.fromisoformat(end.strip())

    def _transfer_number(self, ctx: CallContext) -> str | None:
        """An advisor number, but only inside transfer hours on a transfer weekday."""
        number = self._settings.advisor_numbers.get(ctx.advisor_id or "") or self._settings.transfer_number
        now = self._now().astimezone(self._tz)
        start, end = self._hours()
        open_now = now.isoweekday() in self._settings.transfer_weekdays and start <= now.time() < end
        return number if number and open_now else None

    def _next_desk_time(self) -> datetime:
        """The next opening of the advisors' desk: when a booked callback is due."""
        now = self._now().astimezone(self._tz)
        start, end = self._hours()
        if now.isoweekday() in self._settings.transfer_weekdays and start <= now.time() < end:
            return now + timedelta(hours=1)
        day = now.date() if now.time() < start else now.date() + timedelta(days=1)
        for _ in range(8):
            if day.isoweekday() in self._settings.transfer_weekdays:
                break
            day += timedelta(days=1)
        return datetime.combine(day, start, tzinfo=self._tz)


def bounded_hints(phrases: Sequence[str], max_chars: int) -> str:
    """Distinct phrases joined with commas, as many as fit in `max_chars` (Twilio bounds <Gather hints>)."""
    kept: list[str] = []
    used = 0
    for phrase in dict.fromkeys(p.strip() for p in phrases if p.strip()):
        if used + len(phrase) + (1 if kept else 0) > max_chars:
            break
        kept.append(phrase)
        used += len(phrase) + (1 if len(kept) > 1 else 0)
    return ",".join(kept)


def _booked(messages: Sequence[BotMessage]) -> datetime | None:
    """The callback time the dialogue booked, from its message."""
    for message in messages:
        if message.callback_at:
            try:
                return datetime.fromisoformat(message.callback_at)
            except ValueError:
                continue
    return None


def _spoken_time(when: datetime, language: Language) -> str:
    return f"{when:%m月%d日 %H:%M}" if language == "zh" else f"{when:%b %d at %H:%M}"
