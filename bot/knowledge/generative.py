"""Generative answers: an LLM rewrites the retrieved approved passages, citing them, under the guard.

Grounded only on the passages it is given; every claim must carry a [n] marker mapped back to a
passage, and an answer citing nothing is rejected. The compliance guard checks the final text;
on a violation the text is blocked (and audited) and the caller falls back to the extractive answer.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from pathlib import Path

import yaml
from langchain_core.prompts import ChatPromptTemplate

from bot.dialogue.models import Citation
from bot.errors import ConfigError, LLMUnavailable
from bot.knowledge.audit import AuditEntry, AuditSink
from bot.knowledge.guard import Guard
from bot.knowledge.llm import ChatModel, Message
from bot.knowledge.models import Answer, Hit, Product
from bot.language import Language

logger = logging.getLogger(__name__)
_MARKER = re.compile(r"[\[【]\s*(\d{1,2}(?:\s*[,，、]\s*\d{1,2})*)\s*[\]】]")
_LANGUAGE_NAMES = {"zh": "Simplified Chinese (简体中文)", "en": "English"}
_ROLES = {"system": "system", "human": "user", "ai": "assistant"}


class AnswerRejected(LLMUnavailable):
    """The model replied, but the reply is unusable: no answer, no citations, or blocked by the guard."""


class PromptSet:
    """Versioned prompt templates from prompts/ (answer.<version>.system.txt, .user.txt, .styles.yml)."""

    def __init__(self, prompts_dir: Path, version: str) -> None:
        stem = prompts_dir / f"answer.{version}"
        try:
            system = (stem.parent / f"{stem.name}.system.txt").read_text(encoding="utf-8")
            user = (stem.parent / f"{stem.name}.user.txt").read_text(encoding="utf-8")
            self._styles: dict[str, str] = yaml.safe_load(
                (stem.parent / f"{stem.name}.styles.yml").read_text(encoding="utf-8")
            )
        except OSError as exc:
            raise ConfigError(
                f"llm.prompt_version {version!r}: prompt files missing under {prompts_dir} ({exc})"
            ) from exc
        self.version = version
        self._template = ChatPromptTemplate.from_messages([("system", system), ("human", user)])

    def render(self, question: str, passages: Sequence[Hit], *, language: Language, channel: str) -> list[Message]:
        numbered = "\n\n".join(
            f"[{n}] 《{hit.title}》" + (f" — {hit.section}" if hit.section else "") + f"\n{hit.text}"
            for n, hit in enumerate(passages, start=1)
        )
        rendered = self._template.format_messages(
            language_name=_LANGUAGE_NAMES[language],
            style=self._styles.get(channel, self._styles.get("web", "")),
            passages=numbered,
            question=question,
        )
        return [(_ROLES.get(m.type, "user"), str(m.content)) for m in rendered]


def cite(text: str, passages: Sequence[Hit], *, keep_markers: bool) -> tuple[str, list[Citation], list[Hit]]:
    """Map [n] markers to passages; renumber them by citation order (or strip them, for voice)."""
    citations: list[Citation] = []
    used: list[Hit] = []

    def replace(match: re.Match[str]) -> str:
        numbers = [int(n) for n in re.split(r"\s*[,，、]\s*", match.group(1))]
        out = []
        for number in numbers:
            if not 1 <= number <= len(passages):
                continue  # a marker pointing at no passage is dropped, not trusted
            hit = passages[number - 1]
            used.append(hit)
            if hit.citation not in citations:
                citations.append(hit.citation)
            marker = f"[{citations.index(hit.citation) + 1}]"
            if marker not in out:
                out.append(marker)
        return "".join(out) if keep_markers else ""

    cleaned = _MARKER.sub(replace, text)
    cleaned = re.sub(r"(\[\d+\])(?:\1)+", r"\1", cleaned)
    cleaned = re.sub(r"[ \t]+([。，；！？.,;!?])", r"\1", cleaned)
    return cleaned.strip(), citations, used


class GenerativeAnswerer:
    """Asks the chat model for a cited answer and lets only guard-approved text through."""

    def __init__(self, *, chat: ChatModel, prompts: PromptSet, guard: Guard, audit: AuditSink) -> None:
        self._chat = chat
        self._prompts = prompts
        self._guard = guard
        self._audit = audit

    async def answer(
        self,
        question: str,
        *,
        language: Language,
        channel: str,
        hits: Sequence[Hit],
        catalogue: dict[str, Product],
        risk_level: str | None,
        conversation_id: str | None,
    ) -> Answer:
        """Raises LLMUnavailable (or AnswerRejected) when the caller must fall back."""
        messages = self._prompts.render(question, hits, language=language, channel=channel)
        reply = await self._chat.complete(messages)
        if "NO_ANSWER" in reply:
            raise AnswerRejected("the model found no answer in the passages")
        body, citations, used = cite(reply, hits, keep_markers=channel != "voice")
        if not citations:
            raise AnswerRejected("the model's answer cites no passage")
        about = [catalogue[c] for hit in used for c in hit.products if c in catalogue]
        products = list(catalogue.values())
        disclosures = self._guard.disclosures(body, language=language, products=products, about=about)
        text = body + ("\n" + " ".join(disclosures) if disclosures else "")
        verdict = self._guard.check(text, language=language, client_risk_level=risk_level, products=products)
        if not verdict.ok:
            for violation in verdict.violations:
                entry = AuditEntry.for_text(
                    reply, conversation_id=conversation_id, rule=violation.rule, critical=violation.critical
                )
                await self._audit.record(entry)
            rules = ", ".join(sorted({v.rule for v in verdict.violations}))
            logger.warning("generated answer blocked by the compliance guard (%s)", rules)
            raise AnswerRejected(f"blocked by the compliance guard: {rules}")
        return Answer(answer=text, citations=citations, grounded=True, mode="generative", disclosures=disclosures)
