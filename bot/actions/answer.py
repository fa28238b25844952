"""Answers from approved content: product, fee, redemption, performance and market questions, and every
turn the dialogue policy sends to the knowledge base (questions that are not confidently a dialogue act,
and NLU fallbacks).

A follow-up is made standalone first: with an LLM, `KnowledgeService.standalone` rewrites it from the last
turns; then the products in focus resolve "它/这款/it" (bot/dialogue/focus.py). A question the knowledge
base cannot answer alone is tried once more with the product in focus. A second miss in a row does not
become a lead: the bot offers a human advisor and asks.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot.actions.confirm import ask
from bot.actions.context import TurnContext, history, slot_codes
from bot.core.messages import Citation
from bot.dialogue.focus import about, plain, remember, resolve
from bot.flows import DialogueFlows
from bot.language import Language

#: Declined answers in a row after which the bot offers a human advisor (and asks).
MISSES_BEFORE_OFFER = 2


class AnswerPayload(Protocol):
    """What an answerer returns (bot.knowledge.models.Answer satisfies it)."""

    answer: str
    citations: list[Citation]
    grounded: bool
    approved: list[str]


class Answerer(Protocol):
    """Answers a client's question from approved content only."""

    async def answer(
        self,
        question: str,
        *,
        language: Language,
        channel: str,
        risk_level: str | None = None,
        conversation_id: str | None = None,
        focus: Sequence[str] = (),
    ) -> AnswerPayload: ...

    def products(self) -> list[Any]: ...

    def documents(self, *, doc_type: str, channel: str, language: Language) -> list[Citation]:
        """Approved documents of a type valid today on a channel (blocking: the web's suggested questions)."""
        ...

    async def aclose(self) -> None: ...


class Answering:
    """Asks the knowledge service and sends its grounded answer (or its decline) with citations."""

    def __init__(self, answerer: Answerer, flows: DialogueFlows) -> None:
        self._answerer = answerer
        self._flows = flows

    async def _standalone(self, tracker: Tracker, ctx: TurnContext) -> str:
        rewrite = getattr(self._answerer, "standalone", None)
        if rewrite is None:
            return ctx.text
        before = history(tracker, ctx.language)
        return str(await rewrite(ctx.text, before, language=ctx.language)) if before else ctx.text

    async def _ask(self, question: str, tracker: Tracker, ctx: TurnContext, focus: Sequence[str]) -> AnswerPayload:
        return await self._answerer.answer(
            question,
            language=ctx.language,
            channel=ctx.channel,
            risk_level=tracker.get_slot("risk_level"),
            conversation_id=tracker.sender_id,
            focus=tuple(focus),
        )

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, ctx: TurnContext, *, offer: str | None = None
    ) -> list[EventType]:
        catalogue = self._flows.catalogue()
        in_play = slot_codes(tracker, "product_focus")
        resolved = resolve(await self._standalone(tracker, ctx), in_play, catalogue, ctx.language)
        question, used = resolved.question, list(resolved.focus)
        result = await self._ask(question, tracker, ctx, used)
        named = [p.code for p in catalogue.named(question)]
        if not result.grounded:  # once more: about the product in play, then without filler words
            retries: list[tuple[str, list[str]]] = []
            if in_play and not used and not named and in_play[0] in catalogue.by_code:
                retries.append((about(question, catalogue.by_code[in_play[0]], ctx.language), in_play[:1]))
            if (stripped := plain(question)) and stripped != question:
                retries.append((stripped, used))
            for retry_question, retry_focus in retries:
                retry = await self._ask(retry_question, tracker, ctx, retry_focus)
                if retry.grounded:
                    result, question, used = retry, retry_question, retry_focus
                    named = [p.code for p in catalogue.named(question)]
                    break
        dispatcher.utter_message(
            json_message={
                "text": result.answer,
                "kind": "answer" if result.grounded else "declined",
                "citations": [c.model_dump() for c in result.citations],
                "approved": list(result.approved),  # verbatim approved texts; the outgoing guard verifies them
            }
        )
        # What the answer was about: the products asked about, else those it cites or names (one or two).
        cited = [c.id for c in result.citations if c.id in catalogue.by_code]
        said = [p.code for p in catalogue.named(result.answer)] if result.grounded else []
        focus = named or used or (cited if 0 < len(cited) <= 2 else []) or (said if 0 < len(said) <= 2 else [])
        misses = 0 if result.grounded else int(tracker.get_slot("misses") or 0) + 1
        events: list[EventType] = [SlotSet("product_focus", remember(in_play, focus)), SlotSet("misses", float(misses))]
        if misses >= MISSES_BEFORE_OFFER:  # never silently a lead: offer a person, and ask
            return [
                *events,
                SlotSet("misses", 0.0),
                *ask(dispatcher, action="action_handoff", question="utter_offer_human"),
            ]
        if offer == "opt_out":
            return [*events, *ask(dispatcher, action="action_opt_out", question="utter_offer_opt_out")]
        if offer == "assessment":
            dispatcher.utter_message(response="utter_assessment_offer")
            return [*events, SlotSet("pending_offer", "assessment")]
        return events
