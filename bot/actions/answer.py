"""action_answer_question: product, fee, redemption, performance and market questions, and NLU fallback."""

from __future__ import annotations

from typing import Any, Protocol

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from bot.actions.confirm import ask, unsure
from bot.actions.contact import hand_off
from bot.actions.context import turn_context, user_turns
from bot.dialogue.models import Citation
from bot.flows import DialogueFlows
from bot.language import Language


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
    ) -> AnswerPayload: ...

    def products(self) -> list[Any]: ...

    async def aclose(self) -> None: ...


class ActionAnswerQuestion(Action):
    """Thin: asks the knowledge service and sends its grounded answer with citations.

    A second NLU fallback in a row means the bot is not helping: offer a human advisor instead (a lead,
    so asked first: the fallback's confidence is under any sensible threshold).
    """

    def __init__(self, answerer: Answerer, flows: DialogueFlows | None = None) -> None:
        self._answerer = answerer
        self._flows = flows

    def name(self) -> str:
        return "action_answer_question"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        ctx = turn_context(tracker)
        intents = [t.intent for t in user_turns(tracker)]
        if self._flows is not None and intents[-2:] == ["nlu_fallback", "nlu_fallback"]:
            if unsure(self._flows.settings.confirm_below, "lead", ctx):  # a fallback is never sure: ask
                return ask(dispatcher, action="action_handoff", question="utter_confirm_lead")
            await hand_off(self._flows, dispatcher, tracker, ctx)
            return []
        result = await self._answerer.answer(
            ctx.text,
            language=ctx.language,
            channel=ctx.channel,
            risk_level=tracker.get_slot("risk_level"),
            conversation_id=tracker.sender_id,
        )
        dispatcher.utter_message(
            json_message={
                "text": result.answer,
                "kind": "answer" if result.grounded else "declined",
                "citations": [c.model_dump() for c in result.citations],
                "approved": list(result.approved),  # verbatim approved texts; the outgoing guard verifies them
            }
        )
        return []
