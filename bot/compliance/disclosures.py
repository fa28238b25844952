"""Required wording: 理财非存款、产品有风险、投资须谨慎 and the 2023 past-performance disclaimer.

A disclosure is required when the text mentions a wealth product (or returns/performance) and the
text does not already carry the wording in either language; close variants are accepted because
callers and advisors paraphrase punctuation and particles (须/需).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from bot.compliance.rules import Disclosure, RuleSet
from bot.compliance.suitability import Mention
from bot.language import Language

_NO_SPACE = re.compile(r"\s+")


@dataclass(frozen=True, slots=True)
class MissingDisclosure:
    """A disclosure the text needs but lacks, with the words that triggered it (normalised range)."""

    rule: Literal["missing_risk_disclosure", "missing_performance_disclaimer"]
    sentence: str
    start: int
    end: int


def is_present(disclosure: Disclosure, text: str) -> bool:
    """True when every part of the disclosure appears, in Chinese or in English."""
    compact = _NO_SPACE.sub("", text)
    zh = all(p.search(compact) for p in disclosure.present["zh"])
    en = all(p.search(text) for p in disclosure.present["en"])
    return zh or en


def _trigger(disclosure: Disclosure, text: str, extra: Sequence[Mention]) -> tuple[int, int] | None:
    spans = [m.span() for m in disclosure.mention.finditer(text)] + [(m.start, m.end) for m in extra]
    return min(spans) if spans else None


def missing_disclosures(
    text: str, rules: RuleSet, mentions: Sequence[Mention], language: Language
) -> list[MissingDisclosure]:
    """Disclosures triggered by ``text`` (normalised) and absent from it, risk first."""
    missing: list[MissingDisclosure] = []
    wealth_products = [m for m in mentions if m.product.is_wealth]
    checks: tuple[
        tuple[
            Disclosure,
            Sequence[Mention],
            Literal["missing_risk_disclosure", "missing_performance_disclaimer"],
        ],
        ...,
    ] = (
        (rules.risk, wealth_products, "missing_risk_disclosure"),
        (rules.performance, (), "missing_performance_disclaimer"),
    )
    for disclosure, extra, rule in checks:
        span = _trigger(disclosure, text, extra)
        if span is not None and not is_present(disclosure, text):
            missing.append(MissingDisclosure(rule, disclosure.text[language], span[0], span[1]))
    return missing
