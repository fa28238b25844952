"""The product in focus: what "它/这款/那个/it/this one" means, and which two products a comparison is about.

The conversation keeps the products in play (named, recommended or just answered about; most recent
first) in the slot `product_focus`. A follow-up is made to stand on its own before it reaches the
knowledge base, deterministically: the pointing word is replaced by the product's name ("它多久能赎回"
→ "季享多久能赎回"), so "a product named in the question wins" does the rest; a comparison that names one
product ("how is it different from the money market fund") names both; a bare continuation ("那现在还有
额度吗") keeps the product in focus; anything else is asked as it stands (the answer action tries the focus
only when the knowledge base cannot answer it alone). Names come from the live catalogue only.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from bot.catalogue import Catalogue, CatalogueProduct
from bot.catalogue.matching import short_name
from bot.dialogue.cues import cues, fold
from bot.language import Language

#: Products remembered per conversation (most recent first).
MAX_FOCUS = 3


@dataclass(frozen=True)
class Resolved:
    """The question as the knowledge base should read it, and the products to keep in focus for it."""

    question: str
    focus: tuple[str, ...] = ()


def spoken_name(product: CatalogueProduct, language: Language) -> str:
    """The name a client would use: the first alias in the language, else the short or full name."""
    if language == "en":
        ascii_alias = next((a for a in product.aliases if a.isascii()), None)
        return ascii_alias or product.name_en or product.code
    alias = next((a for a in product.aliases if not a.isascii()), None)
    return alias or short_name(product.name) or product.name


def _joined(products: Sequence[CatalogueProduct], language: Language) -> str:
    names = [spoken_name(p, language) for p in products]
    return " and ".join(names) if language == "en" else "和".join(names)


def resolve(text: str, focus: Sequence[str], catalogue: Catalogue, language: Language) -> Resolved:
    """`text` made standalone from the products in focus (codes, most recent first)."""
    c = cues()
    in_play = [catalogue.by_code[code] for code in focus if code in catalogue.by_code]
    named = catalogue.named(text)
    if not in_play:
        return Resolved(text)
    pointer = c.pattern("refers_back").search(fold(text)) if len(fold(text)) == len(text) else None
    compare = c.has("compare", text)
    if named:
        others = [p for p in in_play if p.code not in {n.code for n in named}]
        if compare and pointer is not None and others:  # "how is it different from the money market fund"
            return Resolved(_replace(text, pointer, spoken_name(others[0], language)))
        return Resolved(text)
    if compare and len(in_play) >= 2:  # "哪个收益高" after 季享 and 禾润
        both = _joined(in_play[:2], language)
        if pointer is not None:
            return Resolved(_replace(text, pointer, both))
        return Resolved(f"{both}: {text}" if language == "en" else f"{both}{text}")
    if pointer is not None:
        return Resolved(_replace(text, pointer, spoken_name(in_play[0], language)), (in_play[0].code,))
    lead = c.pattern("continues").match(fold(text))
    if lead is not None:  # "那现在还有额度吗" → "储蓄国债现在还有额度吗"; "what about fees" → "Zhaoxi: what about fees"
        product = in_play[0]
        aligned = language == "zh" and len(fold(text)) == len(text)
        question = _replace(text, lead, spoken_name(product, language)) if aligned else about(text, product, language)
        return Resolved(question, (product.code,))
    return Resolved(text)


def about(question: str, product: CatalogueProduct, language: Language) -> str:
    """`question` asked about `product` (a follow-up the knowledge base could not answer on its own)."""
    name = spoken_name(product, language)
    return f"{name}: {question}" if language == "en" else f"{name}{question}"


def plain(text: str) -> str:
    """`text` without words that carry no content ("我的", "请问", "那个"), for a second try."""
    stripped = cues().pattern("fillers").sub(" ", text)
    return " ".join(stripped.split())


def _replace(text: str, pointer: re.Match[str], name: str) -> str:
    start, end = pointer.span()
    spaced = f" {name} " if text.isascii() else name
    return re.sub(r"\s{2,}", " ", text[:start] + spaced + text[end:]).strip()


def remember(previous: Sequence[str], codes: Sequence[str]) -> list[str]:
    """The new focus: `codes` first, then what was in play before, at most MAX_FOCUS."""
    merged = list(dict.fromkeys([*codes, *previous]))
    return merged[:MAX_FOCUS]
