"""With an LLM configured: a second opinion on turns the NLU is unsure about (the intent, and the product
in focus). Without one, nothing here runs and every decision is the deterministic policy's.

The opinion only steers: it can send a turn to the knowledge base or to small talk, and name the product
a follow-up is about. It never makes an irreversible effect sure: an opt-out, a lead or a hang-up it
suggests still needs the client's yes (its confidence is unknown to the policy). Any failure (timeout,
error, an answer that is not one of the intents) leaves the NLU's guess as it was.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from bot.catalogue import Catalogue
from bot.dialogue.policy import QUESTION_INTENTS
from bot.errors import LLMUnavailable

logger = logging.getLogger(__name__)
INTENTS = frozenset(
    {
        "greet", "thank", "goodbye", "ask_is_bot", "express_interest", "not_interested", "request_human_advisor",
        "busy_call_later", "opt_out", "complain", "ask_recommendation", "ask_risk_assessment", "affirm", "deny",
        "out_of_scope",
    }
)  # fmt: skip
# "question" stands for the intents the knowledge base answers.
QUESTION = "question"
_JSON = re.compile(r"\{.*\}", re.DOTALL)
_HISTORY_CHARS = 200


class Chat(Protocol):
    """The chat model (bot.knowledge.llm.OpenAIChat satisfies it)."""

    async def complete(self, messages: Sequence[tuple[str, str]]) -> str: ...


@dataclass(frozen=True)
class Opinion:
    """What the model thinks the turn is; `confidence` is None so no effect is taken on its word alone."""

    intent: str
    product: str | None
    confidence: float | None = None


class SecondOpinion:
    """Asks the chat model about turns whose NLU confidence is under `below` (and NLU fallbacks)."""

    def __init__(self, *, chat: Chat, prompts_dir: Path, version: str, below: float, timeout_s: float) -> None:
        self._chat = chat
        self._system = (prompts_dir / f"intent_review.{version}.system.txt").read_text(encoding="utf-8")
        self._user = (prompts_dir / f"intent_review.{version}.user.txt").read_text(encoding="utf-8")
        self._below = below
        self._timeout_s = timeout_s

    def wanted(self, intent: str | None, confidence: float | None) -> bool:
        return intent in (None, "nlu_fallback") or (confidence or 0.0) < self._below

    async def ask(self, text: str, history: Sequence[tuple[str, str]], catalogue: Catalogue) -> Opinion | None:
        """The model's reading of `text`, or None when it failed or said something unusable."""
        listing = "\n".join(
            f"{p.code}: {', '.join(dict.fromkeys([p.name, *(p.aliases), *([p.name_en] if p.name_en else [])]))}"
            for p in catalogue.products
        )
        lines = "\n".join(
            f"{'Client' if role == 'user' else 'Assistant'}: {said[:_HISTORY_CHARS]}" for role, said in history
        )
        user = self._user.format(catalogue=listing or "-", history=lines or "-", text=text)
        try:
            reply = await asyncio.wait_for(
                self._chat.complete([("system", self._system), ("user", user)]), self._timeout_s
            )
        except (TimeoutError, LLMUnavailable) as exc:  # optional: any failure keeps the NLU's guess
            logger.warning("second opinion unavailable: %r", exc)
            return None
        return parse_opinion(reply, catalogue)


def parse_opinion(reply: str, catalogue: Catalogue) -> Opinion | None:
    """{"intent": ..., "product": ...} from the model's reply; None unless the intent is one we know."""
    match = _JSON.search(reply or "")
    try:
        data = json.loads(match.group(0)) if match else None
    except json.JSONDecodeError:
        data = None
    if not isinstance(data, dict):
        return None
    intent = str(data.get("intent") or "").strip()
    if intent == QUESTION:
        intent = "ask_product_info"
    if intent not in INTENTS and intent not in QUESTION_INTENTS:
        return None
    product = data.get("product")
    code = str(product).strip().upper() if product else None
    return Opinion(intent=intent, product=code if code in catalogue.by_code else None)
