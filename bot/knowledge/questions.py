"""What a client's question asks, as far as composing the answer needs: its parts, the product fields
each part is about, and where it refers to content. Word lists live in data/composition.yml.

Retrieval decides whether and from what to answer; this only lets the composer answer every part of
"季享的业绩比较基准是多少？有什么费用？" and draw each part from the right field.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal, cast, get_args

import yaml

from bot.language import Language

COMPOSITION_FILE = Path(__file__).parent / "data" / "composition.yml"
Topic = Literal["benchmark", "fees", "liquidity", "minimum", "term", "risk", "status"]
TOPICS: tuple[Topic, ...] = get_args(Topic)
_PART_END = re.compile(r"[？?；;。！!\n]+")


@lru_cache(maxsize=1)
def composition() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(COMPOSITION_FILE.read_text(encoding="utf-8"))
    return data


@lru_cache(maxsize=2)
def _topic_pattern(language: Language) -> tuple[re.Pattern[str], dict[str, Topic]]:
    """One alternation over every topic word (longest first, so 赎回费 is a fee, not a redemption)."""
    owner: dict[str, Topic] = {}
    for topic, words in composition()["topics"].items():
        if topic not in TOPICS:
            raise ValueError(f"{COMPOSITION_FILE.name}: unknown topic {topic!r}; use one of {TOPICS}")
        for word in words.get(language, []):
            owner.setdefault(word.lower(), cast(Topic, topic))
    ordered = sorted(owner, key=len, reverse=True)
    if language == "en":
        alternation = "|".join(rf"\b{re.escape(w)}\b" for w in ordered)
    else:
        alternation = "|".join(re.escape(w) for w in ordered)
    return re.compile(alternation, re.IGNORECASE), owner


def topics_in(text: str, language: Language) -> tuple[Topic, ...]:
    """The product fields `text` asks about, in the order it mentions them."""
    pattern, owner = _topic_pattern(language)
    found: list[Topic] = []
    for match in pattern.finditer(text):
        topic = owner[match.group(0).lower()]
        if topic not in found:
            found.append(topic)
    return tuple(found)


def without_topics(text: str, language: Language) -> str:
    """`text` with its topic words taken out: what it asks beyond the product fields it names."""
    pattern, _ = _topic_pattern(language)
    return pattern.sub(" ", text)


@dataclass(frozen=True)
class Part:
    """One question of a multi-part message, with the product fields it asks about."""

    text: str
    topics: tuple[Topic, ...]


def parts(question: str, language: Language) -> list[Part]:
    """The separate questions in a message ("…是多少？有什么费用？" is two); never empty."""
    pieces = [p.strip(" ，,、") for p in _PART_END.split(question)]
    found = [Part(p, topics_in(p, language)) for p in pieces if p]
    return found or [Part(question.strip(), topics_in(question, language))]


def all_topics(found: list[Part]) -> tuple[Topic, ...]:
    out: list[Topic] = []
    for part in found:
        out.extend(t for t in part.topics if t not in out)
    return tuple(out)


@lru_cache(maxsize=4)
def _reference(kind: str, language: Language) -> re.Pattern[str]:
    return re.compile(composition()[kind][language], re.IGNORECASE)


def names_a_figure(sentence: str, language: Language) -> bool:
    """True for "下表汇总了…": a sentence about a table or chart the reply cannot show."""
    return bool(_reference("figure_references", language).search(sentence))


def points_forward(sentence: str, language: Language) -> bool:
    """True for "下表汇总了…" / "as follows:": the sentence needs what comes after it."""
    return bool(_reference("forward_references", language).search(sentence))


def points_back(sentence: str, language: Language) -> bool:
    """True for "如上表所示": the sentence needs what came before it."""
    return bool(_reference("backward_references", language).search(sentence))
