"""What every action reads from Rasa's tracker: the turn's text, language, channel and who the client is."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rasa_sdk import Tracker

from bot.flows import Turn
from bot.language import Language

#: Turns of the conversation an LLM rewrite or second opinion sees (the latest ones).
HISTORY_TURNS = 6


@dataclass(frozen=True)
class TurnContext:
    text: str
    language: Language
    channel: str
    intent: str | None
    confidence: float | None
    client_key: str
    sender_id: str
    # The classifier's best intent besides nlu_fallback (its guess when the fallback took over).
    best_guess: str | None = None


def turn_context(tracker: Tracker, message: dict[str, Any] | None = None) -> TurnContext:
    """The latest user turn (or `message`, an earlier one), with the gateway's metadata (language,
    channel, request id)."""
    message = message if message is not None else tracker.latest_message or {}
    metadata = message.get("metadata") or {}
    intent = message.get("intent") or {}
    ranking = message.get("intent_ranking") or []
    best = next((r.get("name") for r in ranking if isinstance(r, dict) and r.get("name") != "nlu_fallback"), None)
    return TurnContext(
        text=str(message.get("text") or ""),
        language="en" if metadata.get("language") == "en" else "zh",
        channel=str(metadata.get("channel") or tracker.get_slot("channel") or "web"),
        intent=intent.get("name"),
        confidence=intent.get("confidence"),
        client_key=str(tracker.get_slot("client_id") or tracker.sender_id),
        sender_id=str(tracker.sender_id),
        best_guess=best,
    )


def user_message(event: dict[str, Any]) -> dict[str, Any]:
    """A tracker's user event in the shape of `tracker.latest_message`."""
    parse_data = event.get("parse_data") or {}
    return {
        "text": event.get("text"),
        "intent": parse_data.get("intent") or {},
        "intent_ranking": parse_data.get("intent_ranking") or [],
        "metadata": event.get("metadata"),
    }


def user_turns(tracker: Tracker) -> list[Turn]:
    """Every user turn of the conversation so far, oldest first."""
    turns = []
    for event in tracker.events:
        if event.get("event") == "user":
            intent = (event.get("parse_data") or {}).get("intent") or {}
            turns.append(Turn(str(event.get("text") or ""), intent.get("name"), intent.get("confidence")))
    return turns


def history(tracker: Tracker, language: Language, *, turns: int = HISTORY_TURNS) -> list[tuple[str, str]]:
    """The latest messages before this turn as (role, text), role "user" or "assistant", oldest first.

    Bot messages are read in the conversation's language from their bilingual payloads; the current
    user message is left out (it is the question being asked).
    """
    lines: list[tuple[str, str]] = []
    for event in tracker.events:
        kind = event.get("event")
        if kind == "user":
            lines.append(("user", str(event.get("text") or "")))
        elif kind == "bot":
            custom = (event.get("data") or {}).get("custom")
            text = custom.get(language) or custom.get("text") if isinstance(custom, dict) else event.get("text")
            if text:
                lines.append(("assistant", str(text)))
    if lines and lines[-1][0] == "user":
        lines.pop()
    return [line for line in lines if line[1].strip()][-2 * turns :]


def slot_codes(tracker: Tracker, slot: str) -> list[str]:
    """A list slot of product codes (None and junk read as empty)."""
    value = tracker.get_slot(slot)
    return [str(v) for v in value] if isinstance(value, list) else []
