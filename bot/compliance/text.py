"""Text plumbing for the guard: normalisation that keeps a map back to the original, and segmentation.

Rules match on NFKC-normalised, lower-cased text so full-width and half-width forms (，/, ％/%)
and letter case don't matter, but every span we report must be an exact substring of what the
caller passed. ``Normalized.origin`` maps each normalised character back to its source index.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

_DROPPED = frozenset("\u200b\u200c\u200d\u2060\ufeff\u00ad")  # invisible chars used to dodge filters
_FOLDED = {"\u2018": "'", "\u2019": "'", "\u00a0": " ", "\u3000": " "}

# Sentence ends: Chinese and ASCII terminators, newlines, and an ASCII full stop before whitespace
# (so decimals like 3.5% stay inside their sentence). Closing quotes/brackets stay with the sentence.
_SENTENCE_END = re.compile(r"(?:[。!?;…\n]+|\.(?=\s|$))[\"”’'」』)\]]*")
# 、 joins the items of one list, so a negation or attribution before the list reaches each item
# (不承诺保本、保收益; 您说的那个年化8%、保本的产品).
_CLAUSE_END = re.compile(r"[,:()\[\]—–]|\s-\s")
# Single quotes only when they cannot be apostrophes (no letter outside them: 'guaranteed 6%').
_QUOTES = re.compile(
    r"\"([^\"\n]{1,80})\"|“([^”\n]{1,80})”|「([^」\n]{1,80})」|『([^』\n]{1,80})』|(?<![a-z0-9])'([^'\n]{1,60})'(?![a-z0-9])"
)


@dataclass(frozen=True, slots=True)
class Normalized:
    """Normalised text plus, for every character, the index of the original character it came from."""

    original: str
    text: str
    origin: tuple[int, ...]

    def original_span(self, start: int, end: int) -> str:
        """The original substring behind normalised ``[start, end)``, trimmed of surrounding whitespace."""
        if end <= start:
            return ""
        return self.original[self.origin[start] : self.origin[end - 1] + 1].strip()


@dataclass(frozen=True, slots=True)
class Segment:
    """A half-open ``[start, end)`` range in normalised text."""

    start: int
    end: int


def normalize(text: str) -> Normalized:
    """NFKC + lower-case character by character, so the index map stays exact."""
    chars: list[str] = []
    origin: list[int] = []
    for index, char in enumerate(text):
        if char in _DROPPED:
            continue
        folded = _FOLDED.get(char) or unicodedata.normalize("NFKC", char).lower()
        for out in folded:
            chars.append(out)
            origin.append(index)
    return Normalized(original=text, text="".join(chars), origin=tuple(origin))


def sentences(text: str) -> list[Segment]:
    """Split normalised text into sentences, each keeping its terminator and closing quotes."""
    segments: list[Segment] = []
    start = 0
    for match in _SENTENCE_END.finditer(text):
        if text[start : match.end()].strip():
            segments.append(Segment(start, match.end()))
        start = match.end()
    if text[start:].strip():
        segments.append(Segment(start, len(text)))
    return segments


def clause_start(text: str, sentence: Segment, position: int, *, lookback: int | None = None) -> int:
    """Start of the clause (comma/colon-delimited part of a sentence) holding ``position``.

    With ``lookback`` the search is limited to that many characters before ``position``.
    """
    start = sentence.start if lookback is None else max(sentence.start, position - lookback)
    for match in _CLAUSE_END.finditer(text, start, position):
        start = match.end()
    return start


def clause_end(text: str, sentence: Segment, position: int) -> int:
    """End of the clause holding ``position`` (the next comma/colon, else the sentence end)."""
    match = _CLAUSE_END.search(text, position, sentence.end)
    return match.start() if match else sentence.end


def clauses(text: str, sentence: Segment) -> list[Segment]:
    """The comma/colon-delimited clauses of one sentence."""
    parts: list[Segment] = []
    start = sentence.start
    for match in _CLAUSE_END.finditer(text, sentence.start, sentence.end):
        parts.append(Segment(start, match.start()))
        start = match.end()
    parts.append(Segment(start, sentence.end))
    return [part for part in parts if text[part.start : part.end].strip()]


def is_question(text: str, sentence: Segment) -> bool:
    """A sentence whose last meaningful character is a question mark."""
    body = text[sentence.start : sentence.end].rstrip(" \n\"”’'」』)]。.")
    return body.endswith("?")


def quoted(text: str) -> list[tuple[Segment, Segment]]:
    """Every quotation as (whole quote including marks, inner content)."""
    found: list[tuple[Segment, Segment]] = []
    for match in _QUOTES.finditer(text):
        group = next(g for g in range(1, 6) if match.group(g) is not None)
        found.append((Segment(match.start(), match.end()), Segment(match.start(group), match.end(group))))
    return found
