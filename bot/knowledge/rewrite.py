"""Follow-up questions made standalone before retrieval ("它怎么赎回？" after talking about 季享).

Only with an LLM configured; the dialogue layer calls `KnowledgeService.standalone(question, history)`
and gets the original question back on any failure. The rewrite feeds retrieval only: the answer is
still drawn from approved content, and a rewrite that changes the language, runs long or is empty is
not trusted.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from bot.errors import LLMUnavailable
from bot.knowledge.generative import PromptSet
from bot.knowledge.llm import ChatModel, Message
from bot.language import Language, detect_language

#: Turns of the conversation the model sees (the latest ones), and characters kept of each.
HISTORY_TURNS = 6
TURN_CHARS = 300
_LABEL = re.compile(r"^\s*(?:standalone question|question|rewritten|改写后的问题|独立问题|问题)\s*[:：]\s*", re.I)
_QUOTES = "\"'“”‘’「」『』"
_SPEAKERS = {"user": "Client", "assistant": "Assistant"}


class RewriteRejected(LLMUnavailable):
    """The model replied with something that is not a usable standalone question."""


def transcript(history: Sequence[Message]) -> str:
    """The latest turns as "Client: …" / "Assistant: …" lines (other roles are left out)."""
    lines = [
        f"{_SPEAKERS[role]}: {' '.join(text.split())[:TURN_CHARS]}"
        for role, text in history
        if role in _SPEAKERS and text.strip()
    ]
    return "\n".join(lines[-HISTORY_TURNS:])


class Rewriter:
    """Asks the chat model for a standalone version of a follow-up question."""

    def __init__(self, *, chat: ChatModel, prompts: PromptSet) -> None:
        self._chat = chat
        self._prompts = prompts

    async def standalone(self, question: str, history: Sequence[Message], *, language: Language) -> str:
        """Raises LLMUnavailable (or RewriteRejected) when the caller must keep the original question."""
        context = transcript(history)
        if not context:
            return question
        reply = await self._chat.complete(self._prompts.render_rewrite(question, context, language=language))
        return _validated(reply, question)


def _validated(reply: str, question: str) -> str:
    """The first line of the reply, unlabelled and unquoted; rejected when it cannot be the question."""
    line = next((ln for ln in reply.splitlines() if ln.strip()), "")
    line = _LABEL.sub("", line).strip().strip(_QUOTES).strip()
    if not line or "NO_ANSWER" in line:
        raise RewriteRejected("the model gave no question")
    if len(line) > max(4 * len(question), 200):
        raise RewriteRejected("the rewrite is much longer than the question")
    asked = detect_language(question)
    if asked is not None and detect_language(line) != asked:
        raise RewriteRejected("the rewrite is not in the question's language")
    return line
