"""Investor levels (C1..C5) read the way people say them: codes, 稳健型, "a balanced investor".

The guard takes a level from its caller (``client_risk_level``); role-play reads the level a client
states in the conversation. Both use the vocabulary in rules.yml (``levels``), so "Balanced" means C3
everywhere. A level the client rules out ("可不敢碰激进的", "I'm not aggressive") is not her level.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from bot.compliance.rules import RuleSet, load_rules
from bot.compliance.text import normalize

_CLAUSE_END = "，,。.;；!！?？\n"


def parse_client_level(level: str | None) -> int | None:
    """C1..C5 or a level name (保守/稳健/平衡/成长/进取, with or without 型; English names) as 1..5.

    None stays unknown; anything else is a caller bug (ValueError).
    """
    if level is None:
        return None
    raw = unicodedata.normalize("NFKC", level).strip().casefold().removesuffix("型").strip()
    if len(raw) == 2 and raw[0] == "c" and raw[1] in "12345":
        return int(raw[1])
    found = load_rules().levels.names.get(raw)
    if found is None:
        raise ValueError(f"client_risk_level must be C1..C5 (or 保守/稳健/平衡/成长/进取), got {level!r}")
    return found


def stated_level(text: str) -> str | None:
    """The level a client states in ``text`` ("我是平衡型", "C3", "I'm a growth investor"), or None.

    The latest mention wins (a corrected level comes last), the longer one on a tie; a level in the
    scope of a negation is skipped.
    """
    return level_in(normalize(text).text, load_rules())


def level_in(folded: str, rules: RuleSet) -> str | None:
    """``stated_level`` on text already normalised (the guard has it at hand)."""
    best: tuple[int, int, int] | None = None
    for level, pattern in rules.levels.words.items():
        for match in pattern.finditer(folded):
            if _ruled_out(rules, folded, match.start()):
                continue
            key = (match.end(), match.end() - match.start(), level)
            if best is None or key > best:
                best = key
    return f"C{best[2]}" if best else None


def _ruled_out(rules: RuleSet, text: str, start: int) -> bool:
    clause = max(text.rfind(mark, 0, start) for mark in _CLAUSE_END) + 1
    return rules.levels.negation.search(text[clause:start]) is not None


@dataclass(frozen=True, slots=True)
class RatedProduct:
    """A product named only by its rating ("这款R4的产品"), at normalised offsets."""

    level: int
    start: int
    end: int


def rated_products(normalized_text: str, rules: RuleSet) -> list[RatedProduct]:
    """Every product named by its rating alone (R4的产品) or by its risk in words (中高风险的产品)."""
    found = [
        RatedProduct(int(next(g for g in m.groups() if g)), m.start(), m.end())
        for m in rules.levels.product.finditer(normalized_text)
    ]
    for level, pattern in rules.levels.product_words.items():
        found += [RatedProduct(level, m.start(), m.end()) for m in pattern.finditer(normalized_text)]
    return sorted(found, key=lambda r: r.start)
