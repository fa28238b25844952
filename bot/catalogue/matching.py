"""Finding the products a text names: full names, English names, codes, aliases and derived short names.

Names come from the catalogue only (products.yml, `aliases`), never from NLU training data, so a
bank's own catalogue works without retraining. Matching is longest-first and non-overlapping, on
NFKC-folded lower-case text; ASCII names need word boundaries so WM30 never matches inside WM300.
Retrieval also accepts names as clients type them (`fuzzy=True`: homophones, a name cut short, see
fuzzy.py) and notices a name the catalogue does not have (`unknown_variants`: 季享180天 when only
季享90天 exists).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cached_property, lru_cache

from bot.catalogue.fuzzy import FuzzyNames
from bot.catalogue.models import CatalogueProduct

#: A bank or insurer prefix ("示例银行", "澄江银行", "示例人寿") and the legal type words at the end of a
#: full name. Stripping them gives the short name clients say ("季享90天", "朝夕").
_PREFIX = re.compile(r"^[\u4e00-\u9fff]{1,6}?(?:银行|人寿|理财|基金|证券)(?:股份有限公司)?")
_SUFFIX = re.compile(
    r"(?:个人|人寿)?(?:现金管理类|持有期|封闭式|定开|周期|固收增强|固收|混合类|混合型|债券型|股票型|指数|证券投资基金|"
    r"理财产品|理财|基金|保险|（.*?）|\(.*?\)|[A-Z])$"
)
_MIN_ALIAS = 2
#: A term or series right after a name (季享 + 180天, 大额存单 + 第9期): together they name one product.
_VARIANT = re.compile(r"第?[0-9一二两三四五六七八九十百]+(?:天|日|个月|月|年|期)")
_DIGITS = "零一二三四五六七八九"
_NUMBER = re.compile(r"\d+")
_CJK = re.compile(r"[\u4e00-\u9fff]")


def fold(text: str) -> str:
    """The form names are compared in: NFKC (full-width → half-width) and case-folded."""
    return unicodedata.normalize("NFKC", text).casefold()


def short_name(name: str) -> str | None:
    """The core of a Chinese legal name, or None when nothing distinctive is left."""
    core = _PREFIX.sub("", name, count=1)
    for _ in range(6):
        stripped = _SUFFIX.sub("", core)
        if stripped == core:
            break
        core = stripped
    return core if len(core) >= _MIN_ALIAS and core != name else None


def spoken_number(digits: str) -> str:
    """A number as Chinese speakers say it: 300 -> 三百, 90 -> 九十, 180 -> 一百八十; four digits and more
    (years, codes) digit by digit (2026 -> 二零二六)."""
    value = int(digits)
    if len(digits) > 3 or digits.startswith("0"):
        return "".join(_DIGITS[int(d)] for d in digits)
    if value < 10:
        return _DIGITS[value]
    hundreds, tens, ones = value // 100, value // 10 % 10, value % 10
    out = f"{_DIGITS[hundreds]}百" if hundreds else ""
    if tens:
        out += ("" if tens == 1 and not hundreds else _DIGITS[tens]) + "十"
    elif hundreds and ones:
        out += "零"
    return out + (_DIGITS[ones] if ones else "")


def spoken_form(name: str) -> str | None:
    """A Chinese name with its numbers said in words (沪深300 -> 沪深三百), as voice transcripts and chat
    write them; None when the name has no number or is not Chinese."""
    if not _CJK.search(name) or not _NUMBER.search(name):
        return None
    return _NUMBER.sub(lambda m: spoken_number(m.group(0)), name)


def _singular(matched: str, owners: dict[str, list[CatalogueProduct]]) -> str:
    """The catalogue name a match stands for ("savings bonds" → "savings bond")."""
    for cut in (0, 1, 2):
        if (name := matched[: len(matched) - cut]) in owners:
            return name
    return matched


@dataclass(frozen=True, slots=True)
class Mention:
    """Where a product is named in a text (offsets into the original text)."""

    product: CatalogueProduct
    start: int
    end: int
    surface: str


def _pattern(name: str) -> str:
    """ASCII names match whole words, in the plural too ("savings bonds" names the savings bond)."""
    escaped = re.escape(name)
    if not name.isascii():
        return escaped
    plural = "(?:e?s)?" if name[-1:].isalpha() else ""
    return rf"(?<![a-z0-9]){escaped}{plural}(?![a-z0-9])"


class Catalogue:
    """An immutable product list with a name index; build a new one when the content changes."""

    def __init__(self, products: Iterable[CatalogueProduct], *, ordinary: Callable[[str], bool] | None = None) -> None:
        """`ordinary` tells an ordinary word of the language (养老金) from a name typed short (fuzzy.py)."""
        self.products: tuple[CatalogueProduct, ...] = tuple(products)
        self._ordinary = ordinary
        self.by_code: dict[str, CatalogueProduct] = {p.code: p for p in self.products}

    def __len__(self) -> int:
        return len(self.products)

    def names(self, product: CatalogueProduct) -> list[str]:
        """Every surface form of one product, folded, longest first (then alphabetically: the order must
        not depend on the process's hash seed, or calibration would pick different names run to run)."""
        forms = {product.code, product.name, *(product.aliases)}
        if product.name_en:
            forms.add(product.name_en)
        if derived := short_name(product.name):
            forms.add(derived)
        forms |= {spoken for form in list(forms) if (spoken := spoken_form(form))}
        return sorted({fold(f).strip() for f in forms if len(f.strip()) >= _MIN_ALIAS}, key=lambda n: (-len(n), n))

    @cached_property
    def _index(self) -> tuple[re.Pattern[str] | None, dict[str, list[CatalogueProduct]]]:
        """One alternation over all names (longest first) and who owns each name (a name may be shared)."""
        owners: dict[str, list[CatalogueProduct]] = {}
        for product in self.products:
            for name in self.names(product):
                owners.setdefault(name, []).append(product)
        if not owners:
            return None, owners
        ordered = sorted(owners, key=len, reverse=True)
        return re.compile("|".join(_pattern(n) for n in ordered)), owners

    @cached_property
    def _fuzzy(self) -> FuzzyNames:
        return FuzzyNames(self._index[1], ordinary=self._ordinary or (lambda _: False))

    def find(self, text: str, *, fuzzy: bool = False) -> list[Mention]:
        """Products named in ``text``, in order of appearance; a name shared by two products names both.
        With `fuzzy`, also names typed as a homophone or cut short (their `surface` is what was typed).

        Folding keeps offsets for everything but rare NFKC expansions; then the match is located
        approximately, which is enough for quoting.
        """
        pattern, owners = self._index
        if pattern is None or not text:
            return []
        folded = fold(text)
        aligned = len(folded) == len(text)
        found = [(m.start(), m.end(), _singular(m.group(0), owners)) for m in pattern.finditer(folded)]
        if fuzzy:
            taken = [False] * len(folded)
            for start, end, _ in found:
                taken[start:end] = [True] * (end - start)
            found = sorted(found + self._fuzzy.find(folded, taken))
        mentions: list[Mention] = []
        for start, end, name in found:
            at = (start, end) if aligned else (0, len(text))
            surface = text[start:end] if aligned else folded[start:end]
            mentions.extend(Mention(p, at[0], at[1], surface) for p in owners[name])
        return mentions

    def named(self, text: str, *, fuzzy: bool = False) -> list[CatalogueProduct]:
        """Distinct products named in ``text``, first mention first."""
        seen: dict[str, CatalogueProduct] = {}
        for mention in self.find(text, fuzzy=fuzzy):
            seen.setdefault(mention.product.code, mention.product)
        return list(seen.values())

    def corrected(self, text: str) -> str:
        """``text`` with names typed as homophones or cut short replaced by the catalogue's own name
        (so the words a search looks for are the content's)."""
        pattern, _ = self._index
        if pattern is None or not text:
            return text
        folded = fold(text)
        taken = [False] * len(folded)
        for match in pattern.finditer(folded):
            taken[match.start() : match.end()] = [True] * (match.end() - match.start())
        out = folded
        for start, end, name in reversed(self._fuzzy.find(folded, taken)):
            out = out[:start] + name + out[end:]
        return out if out != folded else text

    def unknown_variants(self, text: str) -> list[str]:
        """Names that extend a catalogue name with a term or series the catalogue does not have
        (稳添利182天 when the product is 稳添利63天): a product of the same family we do not offer."""
        pattern, owners = self._index
        if pattern is None or not text:
            return []
        folded = fold(text)
        out = []
        for match in pattern.finditer(folded):
            variant = _VARIANT.match(folded, match.end())
            if variant is None:
                continue
            name, unit = _singular(match.group(0), owners), variant.group(0)[-1]
            typed = name + variant.group(0)
            family = [n for p in owners[name] for n in self.names(p) if n.startswith(name)]
            # Only a different number of the same unit: 大额存单三年 is a term, not a series.
            if typed not in family and any(
                (v := _VARIANT.match(n, len(name))) and v.group(0)[-1] == unit for n in family
            ):
                out.append(typed)
        return out

    def vocabulary(self) -> list[str]:
        """Every Chinese name, alias and short name, for a segmenter's user dictionary."""
        words = {name for product in self.products for name in self.names(product) if not name.isascii()}
        return sorted(words)

    def speech_hints(self, limit: int = 100) -> list[str]:
        """Short names first: what a caller says aloud and a recogniser should expect. Every product's
        shortest name comes before any product's second one, so a bounded list still covers them all."""
        ranked = [[n for n in reversed(self.names(p)) if not n.isascii()] for p in self.products]
        hints: list[str] = []
        for rank in range(max((len(names) for names in ranked), default=0)):
            hints.extend(names[rank] for names in ranked if rank < len(names) and names[rank] not in hints)
        return hints[:limit]


@lru_cache(maxsize=32)
def catalogue_for(products: tuple[CatalogueProduct, ...]) -> Catalogue:
    """A shared index for a product list that callers pass turn after turn (the live catalogue)."""
    return Catalogue(products)
