"""Signs, read from the question alone, that it is not for this content however well some passage matches.

A near-domain question shares most of its words with the content: 工商银行的大额存单利率 matches our
own CD page, 朝朝宝收益怎么样 our cash products, 房贷利率 our rates article. What gives it away is one
thing the content does not have: another institution, a product name the catalogue and the content
never use, a topic the content never covers, or a request to look up the client's own records. Each is
a gate feature (gate.py); the lists behind them are data (data/out_of_domain.yml), and a topic counts
only when this content says nothing about it, so a bank whose content covers credit cards answers them.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from bot.catalogue import Catalogue, fold

OUT_OF_DOMAIN_FILE = Path(__file__).parent / "data" / "out_of_domain.yml"
_CJK = re.compile(r"[\u4e00-\u9fff]")
#: "<2-4 characters>银行" is another bank unless it is the content's own; 证券/保险/基金 companies only by
#: name (data), since 那只基金 or 那份保险 are not institutions.
_BANK = re.compile(r"[\u4e00-\u9fff]{2,4}银行|\b[a-z]+ bank\b")
#: Characters that end a name when reading backwards from 宝/理财 (那只|混合基金, 你们的|金满盈).
_FUNCTION = frozenset(
    "的了吗呢是在有和与及我你您他她它们这那个只款种些都也很太就还把被让给要会能可买卖什么哪怎啥多少几存投放往到去从跟家一份笔张条问请"
)
#: Endings after 宝/盈/鑫 that make an ordinary word (宝贝, 盈利, 百宝箱), not a product name.
_NOT_A_NAME = "贝宝石藏箱利亏余"
#: A topic is covered by the content when its words appear in this many passages (or in a title).
TOPIC_PASSAGES = 2


@lru_cache(maxsize=1)
def _data() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(OUT_OF_DOMAIN_FILE.read_text(encoding="utf-8"))
    return data


def _contains(text: str, word: str) -> bool:
    """Substring for Chinese; whole words for English (ETC is not in 'fetch')."""
    if _CJK.search(word):
        return word in text
    return re.search(rf"(?<![a-z0-9]){re.escape(word)}(?![a-z0-9])", text) is not None


@dataclass(frozen=True)
class Signals:
    """What the question alone says about whether this content can answer it."""

    elsewhere: bool = False  # names an institution the content never mentions
    unknown_name: bool = False  # names a product neither the catalogue nor the content knows
    absent_topic: bool = False  # is about a topic the content never covers
    personal: bool = False  # asks to look up the client's own records

    @property
    def any(self) -> bool:
        return self.elsewhere or self.unknown_name or self.absent_topic or self.personal


class SignalReader:
    """Reads Signals for one snapshot's content (built once per index version)."""

    def __init__(
        self,
        catalogue: Catalogue,
        text: str,
        passages: Sequence[str],
        titles: Sequence[str],
        *,
        ordinary: Callable[[str], bool] = lambda _: False,
    ) -> None:
        """`ordinary` tells ordinary speech from a name before 理财/基金 (请问理财, 手续货币基金)."""
        self._catalogue = catalogue
        self._known = frozenset(n for p in catalogue.products for n in catalogue.names(p))
        self._ordinary = ordinary
        self._text = text  # every title and passage, folded
        data = _data()
        self._institutions = tuple(fold(n) for names in data.get("institutions", {}).values() for n in names)
        self._generic_banks = frozenset(data.get("bank_generic", []))
        self._absent = tuple(
            tuple(fold(w) for w in words)
            for words in data.get("topics", {}).values()
            if not _covered([fold(w) for w in words], text, passages, titles)
        )
        self._personal = {
            lang: {k: tuple(fold(w) for w in v) for k, v in p.items()} for lang, p in data["personal"].items()
        }
        suffixes = data.get("product_suffixes", {})
        # A lookahead, so candidates overlap: 的鑫瑞宝 holds 们的鑫 (no name) and 鑫瑞宝.
        self._short = re.compile(
            rf"(?=([\u4e00-\u9fff]{{2}}(?:{'|'.join(map(re.escape, suffixes.get('short', [])))})(?![{_NOT_A_NAME}])))"
        )
        self._long_suffixes = tuple(suffixes.get("long", []))
        self._long = re.compile("|".join(map(re.escape, self._long_suffixes)))

    @property
    def absent_topics(self) -> int:
        return len(self._absent)

    def absent_words(self) -> list[str]:
        """The words of every topic this content never covers (for calibration's negatives)."""
        return [w for words in self._absent for w in words]

    def read(self, question: str) -> Signals:
        folded = fold(question)
        return Signals(
            elsewhere=bool(self.institutions(folded)),
            unknown_name=bool(self.unknown_names(question, folded)),
            absent_topic=any(_contains(folded, w) for words in self._absent for w in words),
            personal=self._is_personal(folded),
        )

    def institutions(self, folded: str) -> list[str]:
        """Institutions the question names that the content never mentions."""
        found = [m.group(0) for m in _BANK.finditer(folded)]
        found = [f for f in map(_strip_front, found) if _bank_prefix(f) not in self._generic_banks]
        found += [n for n in self._institutions if _contains(folded, n) and not any(n in f for f in found)]
        return [f for f in found if len(f) > 2 and f not in self._text]

    def unknown_names(self, question: str, folded: str) -> list[str]:
        """Product-like names (朝朝宝, 金满盈理财, 季享180天) unknown to the catalogue and the content."""
        out = list(self._catalogue.unknown_variants(question))
        out += [m.group(1) for m in self._short.finditer(folded) if not _FUNCTION & set(m.group(1)[:2])]
        for m in self._long.finditer(folded):
            name = _name_before(folded, m.start())
            if len(name) >= 2 and not self._ordinary(name):
                out.append(name + m.group(0))
        return [n for n in out if n not in self._known and self._core(n) not in self._text]

    def _core(self, name: str) -> str:
        """What must be unknown for a name to be unknown: 金满盈理财 → 金满盈, 朝朝宝 → 朝朝宝."""
        for suffix in self._long_suffixes:
            if name.endswith(suffix) and len(name) > len(suffix):
                return name[: -len(suffix)]
        return name

    def _is_personal(self, folded: str) -> bool:
        language = "zh" if _CJK.search(folded) else "en"
        words = self._personal.get(language)
        if not words:
            return False
        return (
            any(_contains(folded, w) for w in words["self"])
            and any(_contains(folded, w) for w in words["lookup"])
            and not any(_contains(folded, w) for w in words["how"])
        )


def _covered(words: Sequence[str], text: str, passages: Sequence[str], titles: Sequence[str]) -> bool:
    present = [w for w in words if _contains(text, w)]
    if not present:
        return False
    if any(_contains(fold(t), w) for t in titles for w in present):
        return True
    return sum(1 for p in passages if any(_contains(p, w) for w in present)) >= TOPIC_PASSAGES


def _bank_prefix(name: str) -> str:
    """工商银行 → 工商; china merchants bank → merchants (the word before "bank")."""
    return name.split()[0] if name.isascii() else name[:-2]


def _strip_front(name: str) -> str:
    """在工商银行 → 工商银行, 人是你们银行 → 银行: what follows the last function character."""
    if name.isascii():
        return name
    cut = max((i for i, c in enumerate(name[:-2]) if c in _FUNCTION), default=-1)
    return name[cut + 1 :]


def _name_before(text: str, end: int, longest: int = 4) -> str:
    """The Chinese characters right before `end`, stopping at a function character or a non-Chinese one."""
    start = end
    while start > 0 and end - start < longest and _CJK.match(text[start - 1]) and text[start - 1] not in _FUNCTION:
        start -= 1
    return text[start:end]
