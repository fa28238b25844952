"""What every action reads from Rasa's tracker: the turn's text, language, channel and who the client is."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rasa_sdk import Tracker

from bot.flows import Turn
from bot.language import Language


@dataclass(frozen=True)
class TurnContext:
    text: str
    language: Language
    channel: str
    intent: str | None
    confidence: float | None
    client_key: str
    sender_id: str


def turn_context(tracker: Tracker, message: dict[str, Any] | None = None) -> TurnContext:
    """The latest user turn (or `message`, an earlier one), with the gateway's metadata (language,
    channel, request id)."""
    message = message if message is not None else tracker.latest_message or {}
    metadata = message.get("metadata") or {}
    intent = message.get("intent") or {}
    return TurnContext(
        text=str(message.get("text") or ""),
        language="en" if metadata.get("language") == "en" else "zh",
        channel=str(metadata.get("channel") or tracker.get_slot("channel") or "web"),
        intent=intent.get("name"),
        confidence=intent.get("confidence"),
        client_key=str(tracker.get_slot("client_id") or tracker.sender_id),
        sender_id=str(tracker.sender_id),
    )


def user_message(event: dict[str, Any]) -> dict[str, Any]:
    """A tracker's user event in the shape of `tracker.latest_message`."""
    parse_data = event.get("parse_data") or {}
    return {"text": event.get("text"), "intent": parse_data.get("intent") or {}, "metadata": event.get("metadata")}


def user_turns(tracker: Tracker) -> list[Turn]:
    """Every user turn of the conversation so far, oldest first."""
    turns = []
    for event in tracker.events:
        if event.get("event") == "user":
            intent = (event.get("parse_data") or {}).get("intent") or {}
            turns.append(Turn(str(event.get("text") or ""), intent.get("name"), intent.get("confidence")))
    return turns
