"""Extractive answers (no LLM): the most relevant approved passage(s), trimmed, cited, with disclosures.

Quoting approved text is the safest answer there is: it was reviewed by compliance word for word.
Trimming keeps whole sentences around the one that best matches the question.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from bot.dialogue.models import Citation
from bot.knowledge.guard import Guard
from bot.knowledge.lexical import Tokenizer
from bot.knowledge.models import Answer, Hit, Product
from bot.language import Language

MESSAGES_FILE = Path(__file__).parent / "data" / "messages.yml"
_SPLIT = re.compile(r"(?<=[。！？；!?;])|\n+|(?<=[.])\s+(?=[A-Z0-9“\"(])")
# A passage's own risk-notice line: the required wording is appended once, at the end, instead.
_NOTICE = re.compile(r"^(?:风险提示|风险揭示|Risk notice|Risk warning)\s*[:：]", re.I)
#: Passages this close (share of the best relevance) count as equally good; same language wins.
NEAR_BEST = 0.85
#: English needs more characters than Chinese for the same content.
EN_CHAR_FACTOR = 2.2


@lru_cache(maxsize=1)
def messages() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(MESSAGES_FILE.read_text(encoding="utf-8"))
    return data


def message(key: str, language: Language, **values: str) -> str:
    text: str = messages()[key][language]
    return text.format(**values) if values else text


def decline(language: Language, *, unavailable: bool = False) -> Answer:
    """Never a guess: say so, and offer a human advisor."""
    text = message("unavailable" if unavailable else "decline", language)
    return Answer(answer=text, citations=[], grounded=False, mode="extractive", disclosures=[])


def split_sentences(text: str) -> list[str]:
    return [part.strip() for part in _SPLIT.split(text) if part and part.strip()]


def choose(hits: Sequence[Hit], language: Language) -> list[Hit]:
    """Hits in answer order: the best, but a same-language hit nearly as good goes first."""
    if not hits:
        return []
    best = max(h.relevance for h in hits)
    near = [h for h in hits if h.relevance >= NEAR_BEST * best]
    same = [h for h in near if h.language == language]
    first = same[0] if same else hits[0]
    return [first, *[h for h in hits if h is not first]]


@dataclass
class Passage:
    """The trimmed text of one hit, ready to quote."""

    hit: Hit
    text: str


class ExtractiveAnswerer:
    """Builds an answer by quoting approved passages."""

    def __init__(self, *, tokenizer: Tokenizer, guard: Guard, max_chars: int, max_voice_chars: int) -> None:
        self._tokenizer = tokenizer
        self._guard = guard
        self._max_chars = max_chars
        self._max_voice_chars = max_voice_chars

    def trim(self, question: str, text: str, budget: int, weight: Callable[[str], float]) -> str:
        """Whole sentences around the one that best matches the question, within `budget` characters."""
        sentences = [s for s in split_sentences(text) if not _NOTICE.match(s)]
        if not sentences:
            return text.strip()[:budget]
        if sum(len(s) for s in sentences) <= budget:
            return _join(sentences)
        terms = set(self._tokenizer.tokens(question))
        scores = [sum(weight(t) for t in terms & set(self._tokenizer.tokens(s))) for s in sentences]
        best = max(range(len(sentences)), key=lambda i: (scores[i], -i))
        start = end = best
        length = len(sentences[best])
        while True:
            options = [i for i in (end + 1, start - 1) if 0 <= i < len(sentences)]
            options = [i for i in options if length + len(sentences[i]) <= budget]
            if not options:
                break
            pick = max(options, key=lambda i: (scores[i], i > end))
            if scores[pick] == 0 and length >= budget // 2:
                break
            start, end = min(start, pick), max(end, pick)
            length += len(sentences[pick])
        chosen = _join(sentences[start : end + 1])
        return chosen if len(chosen) <= budget else chosen[: budget - 1] + "…"

    def answer(
        self,
        question: str,
        *,
        language: Language,
        channel: str,
        hits: Sequence[Hit],
        catalogue: dict[str, Product],
        weight: Callable[[str], float],
    ) -> Answer:
        """`hits` are the relevant ones (already above the threshold), best first."""
        ordered = choose(hits, language)
        if not ordered:
            return decline(language)
        voice = channel == "voice"
        budget = self._max_voice_chars if voice else self._max_chars
        if language == "en":
            budget = int(budget * EN_CHAR_FACTOR)
        first = ordered[0]
        passages = [Passage(first, self.trim(question, first.text, budget, weight))]
        room = budget - len(passages[0].text)
        second = next((h for h in ordered[1:] if h.id != first.id and h.language == first.language), None)
        if (
            not voice
            and second is not None
            and second.relevance >= NEAR_BEST * first.relevance
            and room >= min(120, budget // 3)
        ):
            passages.append(Passage(second, self.trim(question, second.text, room, weight)))

        parts: list[str] = []
        for n, passage in enumerate(passages):
            intro = (
                "" if voice else message("source_intro" if n == 0 else "also_intro", language, title=passage.hit.title)
            )
            foreign = message("other_language", language) if passage.hit.language != language else ""
            parts.append(f"{intro}{foreign}{passage.text}")
        about = _products(passages, catalogue)
        for product in about:
            if product.status != "on_sale":
                name = product.name if language == "zh" else (product.name_en or product.name)
                parts.append(messages()["status_note"][product.status][language].format(name=name))
        body = "\n".join(parts)
        disclosures = self._guard.disclosures(body, language=language, products=list(catalogue.values()), about=about)
        text = body + ("\n" + " ".join(disclosures) if disclosures else "")
        citations: list[Citation] = []
        for passage in passages:
            if passage.hit.citation not in citations:
                citations.append(passage.hit.citation)
        return Answer(answer=text, citations=citations, grounded=True, mode="extractive", disclosures=disclosures)


def _products(passages: Sequence[Passage], catalogue: dict[str, Product]) -> list[Product]:
    """Catalogue products the quoted passages are about (a product's own passage, or a document's
    `products` list), in order, without repeats."""
    seen: dict[str, Product] = {}
    for passage in passages:
        for code in passage.hit.products:
            if code in catalogue and code not in seen:
                seen[code] = catalogue[code]
    return list(seen.values())


def _join(sentences: Sequence[str]) -> str:
    out = ""
    for sentence in sentences:
        if out and (out[-1].isascii() and sentence[:1].isascii()):
            out += " "
        out += sentence
    return out
