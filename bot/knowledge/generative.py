"""Generative answers: an LLM rewrites the retrieved approved passages, citing them, under the guard.

Grounded only on the sources it is given: the retrieved passages (the question's language first) and
the structured fields of the products in question. Every claim must carry a [n] marker mapped back to
a source, and an answer citing nothing is rejected. The compliance guard checks the whole text (LLM
text never counts as approved); on a violation it is blocked (and audited) and the caller falls back
to the extractive answer. Closed and suspended products are said to be not purchasable, as there.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml
from langchain_core.prompts import ChatPromptTemplate

from bot.compliance import Violation
from bot.compliance.outgoing import join_disclosures
from bot.core.audit import AuditEntry, AuditSink
from bot.core.messages import Citation
from bot.errors import ConfigError, LLMUnavailable
from bot.knowledge.compose import products_in_question
from bot.knowledge.facts import citation, product_facts, status_note
from bot.knowledge.guard import Guard
from bot.knowledge.llm import ChatModel, Message
from bot.knowledge.models import Answer, Hit, Product, Retrieval
from bot.knowledge.questions import TOPICS
from bot.language import Language

logger = logging.getLogger(__name__)
_MARKER = re.compile(r"[\[【]\s*(\d{1,2}(?:\s*[,，、]\s*\d{1,2})*)\s*[\]】]")
_LANGUAGE_NAMES = {"zh": "Simplified Chinese (简体中文)", "en": "English"}
_ROLES = {"system": "system", "human": "user", "ai": "assistant"}


class AnswerRejected(LLMUnavailable):
    """The model replied, but the reply is unusable: no answer, no citations, or blocked by the guard."""


@dataclass(frozen=True)
class Source:
    """One numbered source in the prompt: a retrieved passage or a product's structured fields."""

    title: str
    text: str
    citation: Citation
    products: tuple[str, ...] = ()
    section: str = ""

    @classmethod
    def of_hit(cls, hit: Hit) -> Source:
        return cls(hit.title, hit.text, hit.citation, tuple(hit.products), hit.section)

    @classmethod
    def of_product(cls, product: Product, language: Language) -> Source:
        """Every field of the product as the labelled facts the extractive answer uses, in Chinese
        (the fields' own language; the model answers in the client's)."""
        facts = product_facts(product, TOPICS, "zh")
        text = "\n".join([product.description.strip(), *(f.text for f in facts)])
        return cls(product.name, text, citation(product, language), (product.code,))


def sources_for(retrieval: Retrieval) -> list[Source]:
    """The products in question first (their fields), then the evidence, the question's language first."""
    about = products_in_question(retrieval)
    hits = sorted(retrieval.evidence, key=lambda h: h.language != retrieval.language)
    return [*(Source.of_product(p, retrieval.language) for p in about), *(Source.of_hit(h) for h in hits)]


class PromptSet:
    """Versioned prompt templates from prompts/: answer.<version>.system.txt, .user.txt, .styles.yml,
    and rewrite.<version>.system.txt, .user.txt (follow-up questions made standalone)."""

    def __init__(self, prompts_dir: Path, version: str) -> None:
        try:
            system, user = self._pair(prompts_dir, f"answer.{version}")
            rewrite_system, rewrite_user = self._pair(prompts_dir, f"rewrite.{version}")
            self._styles: dict[str, str] = yaml.safe_load(
                (prompts_dir / f"answer.{version}.styles.yml").read_text(encoding="utf-8")
            )
        except OSError as exc:
            raise ConfigError(
                f"llm.prompt_version {version!r}: prompt files missing under {prompts_dir} ({exc})"
            ) from exc
        self.version = version
        self._template = ChatPromptTemplate.from_messages([("system", system), ("human", user)])
        self._rewrite = ChatPromptTemplate.from_messages([("system", rewrite_system), ("human", rewrite_user)])

    @staticmethod
    def _pair(prompts_dir: Path, stem: str) -> tuple[str, str]:
        system = (prompts_dir / f"{stem}.system.txt").read_text(encoding="utf-8")
        return system, (prompts_dir / f"{stem}.user.txt").read_text(encoding="utf-8")

    def render(
        self, question: str, passages: Sequence[Source | Hit], *, language: Language, channel: str
    ) -> list[Message]:
        numbered = "\n\n".join(
            f"[{n}] 《{p.title}》" + (f" — {p.section}" if p.section else "") + f"\n{p.text}"
            for n, p in enumerate(passages, start=1)
        )
        rendered = self._template.format_messages(
            language_name=_LANGUAGE_NAMES[language],
            style=self._styles.get(channel, self._styles.get("web", "")),
            passages=numbered,
            question=question,
        )
        return _messages(rendered)

    def render_rewrite(self, question: str, history: str, *, language: Language) -> list[Message]:
        rendered = self._rewrite.format_messages(
            language_name=_LANGUAGE_NAMES[language], history=history, question=question
        )
        return _messages(rendered)


def _messages(rendered: Sequence[object]) -> list[Message]:
    return [(_ROLES.get(getattr(m, "type", ""), "user"), str(getattr(m, "content", ""))) for m in rendered]


def cite(
    text: str, passages: Sequence[Source | Hit], *, keep_markers: bool
) -> tuple[str, list[Citation], list[Source | Hit]]:
    """Map [n] markers to passages; renumber them by citation order (or strip them, for voice)."""
    citations: list[Citation] = []
    used: list[Source | Hit] = []

    def replace(match: re.Match[str]) -> str:
        numbers = [int(n) for n in re.split(r"\s*[,，、]\s*", match.group(1))]
        out = []
        for number in numbers:
            if not 1 <= number <= len(passages):
                continue  # a marker pointing at no passage is dropped, not trusted
            passage = passages[number - 1]
            used.append(passage)
            if passage.citation not in citations:
                citations.append(passage.citation)
            marker = f"[{citations.index(passage.citation) + 1}]"
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
        self, retrieval: Retrieval, *, channel: str, risk_level: str | None, conversation_id: str | None
    ) -> Answer:
        """Raises LLMUnavailable (or AnswerRejected) when the caller must fall back."""
        language, catalogue = retrieval.language, retrieval.catalogue
        sources = sources_for(retrieval)
        messages = self._prompts.render(retrieval.query, sources, language=language, channel=channel)
        reply = await self._chat.complete(messages)
        if "NO_ANSWER" in reply:
            raise AnswerRejected("the model found no answer in the passages")
        body, citations, used = cite(reply, sources, keep_markers=channel != "voice")
        if not citations:
            raise AnswerRejected("the model's answer cites no passage")
        codes = dict.fromkeys(
            [*(p.code for p in products_in_question(retrieval)), *(c for s in used for c in s.products)]
        )
        about = [catalogue[c] for c in codes if c in catalogue]
        notes = [n for n in (status_note(p, language) for p in about) if n is not None]
        body = "\n".join([body, *notes])
        products = list(catalogue.values())
        disclosures = self._guard.disclosures(body, language=language, products=products, about=about)
        text = body + ("\n" + join_disclosures(disclosures, language) if disclosures else "")
        verdict = self._guard.check(text, language=language, client_risk_level=risk_level, products=products)
        if not verdict.ok:
            await self._reject(reply, verdict.violations, conversation_id)
        return Answer(answer=text, citations=citations, grounded=True, mode="generative", disclosures=disclosures)

    async def _reject(self, reply: str, violations: Sequence[Violation], conversation_id: str | None) -> None:
        for violation in violations:
            entry = AuditEntry.for_text(
                reply, conversation_id=conversation_id, rule=violation.rule, critical=violation.critical
            )
            await self._audit.record(entry)
        rules = ", ".join(sorted({v.rule for v in violations}))
        logger.warning("generated answer blocked by the compliance guard (%s)", rules)
        raise AnswerRejected(f"blocked by the compliance guard: {rules}")
