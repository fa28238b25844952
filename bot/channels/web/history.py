"""A web conversation's visible history, rebuilt from Rasa's tracker store, so a reloaded page shows
what the server's conversation holds (including a questionnaire waiting for its next answer).

Rasa's record is the source of truth; we only read it. Bot messages are rendered and guarded exactly as
they were when sent: each in the language of the client turn it answered, through the same `render`
and compliance guard (without auditing again: the guard audited them when they went out).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from bot.compliance.models import ProductRef
from bot.compliance.outgoing import OutgoingGuard
from bot.core.identity import Identity
from bot.core.messages import BotMessage
from bot.dialogue import analytics
from bot.dialogue.render import render
from bot.language import Language, detect_language

# What a client saw: their messages and the bot's. A session start marks the session's opening messages,
# and a restart hides what came before it (as Rasa's tracker API does).
_TYPES = ("user", "bot", "restart")
_SESSION_START = "action_session_start"
# Every event read shows at least one message except a session start, which comes with a client
# message: twice as many events as wanted messages is always enough.
_EVENTS_PER_MESSAGE = 2


@dataclass
class Turn:
    """One client message (None when the window starts mid-turn) and the bot messages it got back."""

    user: str | None
    language: Language | None
    outputs: list[dict[str, Any]] = field(default_factory=list)  # as Rasa's REST channel sent them


@dataclass
class Line:
    """One visible message of the history."""

    role: Literal["user", "bot"]
    message: BotMessage


def outputs(event: dict[str, Any]) -> list[dict[str, Any]]:
    """The REST channel's messages for one bot event (mirrors rasa's OutputChannel.send_response)."""
    data = event.get("data") or {}
    sent: list[dict[str, Any]] = []
    if data.get("buttons"):
        sent.append({"text": event.get("text"), "buttons": data["buttons"]})
    elif event.get("text"):
        sent.append({"text": event["text"]})
    if data.get("custom"):
        sent.append({"custom": data["custom"]})
    return sent


def fold(events: Sequence[dict[str, Any]]) -> list[Turn]:
    """Group events into client turns, in the order the client saw them.

    Rasa logs a new session's opening messages (action_session_start's AI disclosure) before the
    client message that started the session, while the client saw them in its reply: they are held
    until that message.
    """
    turns: list[Turn] = []
    held: list[dict[str, Any]] = []
    holding = False
    for event in events:
        kind = event.get("event")
        if kind == "restart":
            turns, held, holding = [], [], False
        elif kind == "action" and event.get("name") == _SESSION_START:
            holding = True
        elif kind == "user":
            language = (event.get("metadata") or {}).get("language")
            turns.append(Turn(str(event.get("text") or ""), language if language in ("zh", "en") else None, held))
            held, holding = [], False
        elif kind == "bot":
            if holding:
                held.extend(outputs(event))
            elif turns:
                turns[-1].outputs.extend(outputs(event))
            else:
                turns.append(Turn(None, None, outputs(event)))
    if held:
        turns.append(Turn(None, None, held))
    return turns


class ConversationHistory:
    """Reads one conversation from Rasa's SQL tracker store and renders it for the web page."""

    def __init__(
        self,
        *,
        tracker_store: Path | str | None,
        products: Callable[[], Sequence[ProductRef]],
        default_language: Language,
        identity: Identity,
        approved: Callable[[str], bool] | None = None,
    ) -> None:
        self._store = tracker_store  # a SQLite file, or a SQLAlchemy URL (Settings.tracker_store_url)
        # The same guard as when the messages were sent, but not audited twice.
        self._guard = OutgoingGuard(products=products, audit=None, approved=approved, identity=identity)
        self._identity = identity
        self._default_language = default_language

    async def load(self, conversation_id: str, *, messages: int) -> tuple[Language | None, list[Line]]:
        """The latest `messages` visible messages and the conversation's current language (None when
        the store holds no such conversation)."""
        events = await asyncio.to_thread(self.events, conversation_id, messages=messages)
        return await self.lines(conversation_id, events, messages=messages)

    def events(self, conversation_id: str, *, messages: int) -> list[dict[str, Any]]:
        """The raw events behind the latest `messages` visible messages (blocking)."""
        store = self._store
        if isinstance(store, Path):
            store = f"sqlite:///{store}" if store.exists() else None
        if store is None:
            return []
        engine = analytics.tracker_engine(store)
        try:
            return analytics.conversation_events(
                engine, conversation_id, types=_TYPES, actions=(_SESSION_START,), limit=messages * _EVENTS_PER_MESSAGE
            )
        finally:
            engine.dispose()

    async def lines(
        self, conversation_id: str, events: Sequence[dict[str, Any]], *, messages: int
    ) -> tuple[Language | None, list[Line]]:
        """Each turn rendered in its own language and guarded, as the client saw it."""
        turns = fold(events)
        language = next((t.language for t in turns if t.language), None) or self._default_language
        lines: list[Line] = []
        for turn in turns:
            language = turn.language or (detect_language(turn.user or "") or language)
            if turn.user:
                lines.append(Line("user", BotMessage(text=turn.user)))
            rendered = await self._guard.apply(
                render(turn.outputs, language, self._identity),
                language=language,
                conversation_id=conversation_id,
                channel="web-history",
            )
            lines.extend(Line("bot", m) for m in rendered)
        return (language if turns else None), lines[-messages:]
