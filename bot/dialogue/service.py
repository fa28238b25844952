"""The dialogue gateway: the one path every channel's messages take to Rasa and back."""

from __future__ import annotations

import uuid
from collections import OrderedDict
from typing import Any

from bot.compliance.outgoing import OutgoingGuard
from bot.dialogue.client import RasaClient
from bot.dialogue.models import Reply
from bot.dialogue.render import Identity, render
from bot.language import Language, detect_language


class DialogueGateway:
    """Forwards a channel's user turn to Rasa with a stable sender id and renders the answer."""

    def __init__(
        self,
        client: RasaClient,
        *,
        guard: OutgoingGuard,
        default_language: Language,
        memory: int = 100_000,
        identity: Identity | None = None,
    ) -> None:
        self._client = client
        self._guard = guard
        self._identity = identity or Identity.from_settings()
        self._default_language = default_language
        # Last language per conversation, so "1" or "👍" is answered in the language used before.
        self._languages: OrderedDict[str, Language] = OrderedDict()
        self._memory = memory

    @staticmethod
    def conversation_id(channel: str, sender_id: str) -> str:
        """Channels share one Rasa; prefixing keeps a WeCom user and a web visitor apart."""
        return f"{channel}:{sender_id}"

    def _language_for(self, conversation_id: str, text: str, forced: Language | None = None) -> Language:
        language = forced or detect_language(text) or self._languages.get(conversation_id) or self._default_language
        self._languages[conversation_id] = language
        self._languages.move_to_end(conversation_id)
        if len(self._languages) > self._memory:
            self._languages.popitem(last=False)
        return language

    async def handle(
        self,
        *,
        channel: str,
        sender_id: str,
        text: str,
        metadata: dict[str, Any] | None = None,
        request_id: str | None = None,
        language: Language | None = None,
    ) -> Reply:
        """One user turn. Raises DialogueUnavailable when Rasa is down; callers degrade.

        `language` forces the reply language when the channel knows it (a voice call's recogniser is set
        to one language, and its "/call_start" opening has no words to detect).
        """
        conversation_id = self.conversation_id(channel, sender_id)
        language = self._language_for(conversation_id, text, language)
        meta = {
            **(metadata or {}),
            "channel": channel,
            "language": language,
            "request_id": request_id or uuid.uuid4().hex,
        }
        raw = await self._client.send(conversation_id, text, meta)
        messages = await self._guard.apply(
            render(raw, language, self._identity), language=language, conversation_id=conversation_id, channel=channel
        )
        return Reply(conversation_id=conversation_id, language=language, messages=messages)
