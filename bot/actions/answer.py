"""action_answer_question: product, fee, redemption, performance and market questions, and NLU fallback."""

from __future__ import annotations

from typing import Any, Protocol

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from bot.dialogue.models import Citation
from bot.language import Language


class AnswerPayload(Protocol):
    """What an answerer returns (bot.knowledge.models.Answer satisfies it)."""

    answer: str
    citations: list[Citation]
    grounded: bool


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

    async def aclose(self) -> None: ...


def turn_context(tracker: Tracker) -> tuple[str, Language, str]:
    """(user text, language, channel) of the latest turn, from the gateway's metadata."""
    message = tracker.latest_message or {}
    metadata = message.get("metadata") or {}
    language: Language = "en" if metadata.get("language") == "en" else "zh"
    channel = str(metadata.get("channel") or tracker.get_slot("channel") or "web")
    return str(message.get("text") or ""), language, channel


class ActionAnswerQuestion(Action):
    """Thin: asks the knowledge service and sends its grounded answer with citations."""

    def __init__(self, answerer: Answerer) -> None:
        self._answerer = answerer

    def name(self) -> str:
        return "action_answer_question"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        text, language, channel = turn_context(tracker)
        result = await self._answerer.answer(
            text,
            language=language,
            channel=channel,
            risk_level=tracker.get_slot("risk_level"),
            conversation_id=tracker.sender_id,
        )
        dispatcher.utter_message(
            json_message={
                "text": result.answer,
                "kind": "answer" if result.grounded else "declined",
                "citations": [c.model_dump() for c in result.citations],
            }
        )
        return []
