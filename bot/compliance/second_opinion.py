"""An optional LLM second opinion on text the rules pass but that speaks of outcomes.

Rules decide; the model only gets a say where the rules found nothing and the text talks about
returns, principal, deposits or the risk assessment (``rules.yml: second_opinion.outcome``). Every
review is written to an audit log with its reason, whichever way it goes. A model that fails or
answers nonsense changes nothing: the rules' verdict stands (the message is never held up by it).

Used by the live guard (``ReviewedGuard``, when ``compliance.second_opinion`` is on and an LLM is
configured) and by ``advisor compliance check --second-opinion``.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import re
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal, Protocol

from pydantic import BaseModel, Field, ValidationError

from bot.compliance.models import GuardResult, ProductRef
from bot.compliance.outgoing import OutgoingGuard
from bot.compliance.rules import load_rules
from bot.compliance.text import normalize
from bot.core.audit import AuditEntry, AuditSink, JsonLinesFile
from bot.core.identity import Identity
from bot.core.masking import mask_text
from bot.core.messages import BotMessage
from bot.errors import ConfigError, LLMUnavailable
from bot.language import Language
from bot.settings import Settings

logger = logging.getLogger(__name__)
_JSON = re.compile(r"\{.*\}", re.DOTALL)


class ChatModel(Protocol):
    """The project's chat-model seam (bot.knowledge.llm.OpenAIChat, built by the caller); raises LLMUnavailable."""

    async def complete(self, messages: Sequence[tuple[str, str]]) -> str: ...

    async def aclose(self) -> None: ...


class Opinion(BaseModel):
    """The model's verdict on one message, with its reason."""

    violation: bool
    rule: str | None = None
    reason: str = Field(min_length=1)


class Review(BaseModel):
    """One audited review: what was asked about (masked), where, and what the model said."""

    at: datetime = Field(default_factory=lambda: datetime.now(UTC))
    conversation_id: str | None
    source: str
    sha256: str
    text: str
    outcome: Literal["violation", "ok", "unavailable"]
    rule: str | None = None
    reason: str | None = None


class ReviewSink(Protocol):
    """Where reviews are recorded."""

    async def record(self, review: Review) -> None: ...


class JsonlReviewSink(JsonLinesFile):
    """One JSON line per review (default: data_dir/audit/second_opinion.jsonl)."""

    async def record(self, review: Review) -> None:
        await self.write(review)


def speaks_of_outcomes(text: str) -> bool:
    """True when the text holds the outcome words a second opinion is for."""
    return load_rules().outcome.search(normalize(text).text) is not None


class SecondOpinion:
    """Asks the chat model about one message and records the answer."""

    def __init__(self, model: ChatModel, *, prompts_dir: Path, version: str, sink: ReviewSink | None) -> None:
        try:
            self._system = (prompts_dir / f"compliance_review.{version}.system.txt").read_text(encoding="utf-8")
            self._user = (prompts_dir / f"compliance_review.{version}.user.txt").read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError(f"llm.prompt_version {version!r}: compliance_review prompts missing ({exc})") from exc
        self._model = model
        self._sink = sink

    def wanted(self, text: str, result: GuardResult) -> bool:
        """Only text the rules let through (disclosures aside) and that speaks of outcomes."""
        blocking = [v for v in result.violations if not v.rule.startswith("missing_")]
        return not blocking and speaks_of_outcomes(text)

    async def review(self, text: str, *, conversation_id: str | None = None, source: str = "cli") -> Opinion | None:
        """The model's opinion, or None when it failed (the rules' verdict then stands)."""
        opinion: Opinion | None = None
        try:
            reply = await self._model.complete([("system", self._system), ("user", self._user.format(text=text))])
            opinion = _parse(reply)
        except LLMUnavailable as exc:
            logger.warning("second opinion unavailable: %s", exc)
        if self._sink is not None:
            outcome: Literal["violation", "ok", "unavailable"] = (
                "unavailable" if opinion is None else "violation" if opinion.violation else "ok"
            )
            await self._sink.record(
                Review(
                    conversation_id=conversation_id,
                    source=source,
                    sha256=hashlib.sha256(text.encode("utf-8")).hexdigest(),
                    text=mask_text(text),
                    outcome=outcome,
                    rule=opinion.rule if opinion else None,
                    reason=opinion.reason if opinion else None,
                )
            )
        return opinion

    async def aclose(self) -> None:
        await self._model.aclose()


def _parse(reply: str) -> Opinion:
    match = _JSON.search(reply)
    try:
        return Opinion.model_validate(json.loads(match.group(0) if match else reply))
    except (json.JSONDecodeError, ValidationError) as exc:
        raise LLMUnavailable(f"second opinion is not the JSON asked for: {reply[:120]!r}") from exc


def second_opinion_from_settings(
    settings: Settings, *, chat: Callable[[], ChatModel], sink: ReviewSink | None = None
) -> SecondOpinion | None:
    """The reviewer when ``compliance.second_opinion`` is on and an LLM is configured, else None. `chat`
    builds its model (the caller's LLM adapter), only when the reviewer is on; the reviewer closes it."""
    if not settings.compliance.second_opinion or settings.llm.provider is None:
        return None
    llm = settings.llm
    model = chat()
    if sink is None and settings.compliance.audit:
        sink = JsonlReviewSink(settings.data_dir / "audit" / "second_opinion.jsonl")
    return SecondOpinion(model, prompts_dir=llm.prompts_dir, version=llm.prompt_version, sink=sink)


class ReviewedGuard(OutgoingGuard):
    """The outgoing guard, plus a second opinion on messages the rules let through.

    A message the model calls a violation is replaced by the safe fallback and audited like a rule
    block (rule ``second_opinion``); reviews of one turn run concurrently.
    """

    def __init__(
        self,
        *,
        reviewer: SecondOpinion,
        products: Callable[[], Sequence[ProductRef]],
        audit: AuditSink | None,
        approved: Callable[[str], bool] | None = None,
        identity: Identity | None = None,
    ) -> None:
        super().__init__(products=products, audit=audit, approved=approved, identity=identity)
        self._reviewer = reviewer

    async def apply(
        self, messages: list[BotMessage], *, language: Language, conversation_id: str, channel: str
    ) -> list[BotMessage]:
        guarded = await super().apply(messages, language=language, conversation_id=conversation_id, channel=channel)
        passed = [
            i
            for i, (sent, original) in enumerate(zip(guarded, messages, strict=True))
            if sent.text != self.fallback(language) and speaks_of_outcomes(original.text)
        ]
        opinions = await asyncio.gather(
            *(
                self._reviewer.review(messages[i].text, conversation_id=conversation_id, source=f"gateway.{channel}")
                for i in passed
            )
        )
        for i, opinion in zip(passed, opinions, strict=True):
            if opinion is not None and opinion.violation:
                if self._audit is not None:
                    await self._audit.record(
                        AuditEntry.for_text(
                            messages[i].text,
                            conversation_id=conversation_id,
                            rule="second_opinion",
                            keep_text=True,
                        ).model_copy(update={"source": f"gateway.{channel}"})
                    )
                guarded[i] = guarded[i].model_copy(
                    update={"text": self.fallback(language), "citations": [], "approved": []}
                )
        return guarded
