"""The dialogue gateway: the one path every channel's messages take to Rasa and back."""

from __future__ import annotations

import uuid
from collections import OrderedDict
from typing import Any

from bot.compliance.outgoing import OutgoingGuard
from bot.core.identity import Identity
from bot.core.messages import BotMessage, Reply
from bot.dialogue.client import DialogueEngine
from bot.dialogue.inbound import INTENT_NAME, GatewayTexts, gateway_texts, looks_like_command
from bot.dialogue.render import render
from bot.errors import RateLimited
from bot.language import Language, detect_language
from bot.limits import RateWindow


class DialogueGateway:
    """Forwards a channel's user turn to Rasa with a stable sender id and renders the answer.

    A user's text never triggers an intent directly: text that starts with "/" is answered with a hint
    and never forwarded. Our own code (the voice channel's call opening) uses `trigger` instead.
    """

    def __init__(
        self,
        client: DialogueEngine,
        *,
        guard: OutgoingGuard,
        default_language: Language,
        memory: int = 100_000,
        identity: Identity | None = None,
        sender_limit: RateWindow | None = None,
        texts: GatewayTexts | None = None,
    ) -> None:
        self._client = client
        self._guard = guard
        self._identity = identity or Identity.from_settings()
        self._default_language = default_language
        # Last language per conversation, so "1" or "👍" is answered in the language used before.
        self._languages: OrderedDict[str, Language] = OrderedDict()
        self._memory = memory
        self._sender_limit = sender_limit
        self._texts = texts or gateway_texts()

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
        """One user turn. Raises RateLimited past the sender's rate and DialogueUnavailable when Rasa is
        down; callers degrade.

        `language` forces the reply language when the channel knows it (a voice call's recogniser is set
        to one language).
        """
        conversation_id = self.conversation_id(channel, sender_id)
        if self._sender_limit is not None and (wait := await self._sender_limit.count(conversation_id)) is not None:
            raise RateLimited(self._texts.rate_limited, retry_after_s=wait)
        if looks_like_command(text):
            language = self._language_for(conversation_id, "", language)
            hint = BotMessage(text=self._texts.command_hint, kind="command_refused")
            return Reply(conversation_id=conversation_id, language=language, messages=[hint])
        return await self._exchange(channel, conversation_id, text, metadata, request_id, language)

    async def trigger(
        self,
        *,
        channel: str,
        sender_id: str,
        intent: str,
        metadata: dict[str, Any] | None = None,
        request_id: str | None = None,
        language: Language | None = None,
    ) -> Reply:
        """Trigger `intent` directly (Rasa's "/intent"): for our own code only, never for a user's text."""
        if not INTENT_NAME.fullmatch(intent):
            raise ValueError(f"not an intent name: {intent!r}")
        conversation_id = self.conversation_id(channel, sender_id)
        return await self._exchange(channel, conversation_id, f"/{intent}", metadata, request_id, language)

    async def _exchange(
        self,
        channel: str,
        conversation_id: str,
        text: str,
        metadata: dict[str, Any] | None,
        request_id: str | None,
        language: Language | None,
    ) -> Reply:
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
