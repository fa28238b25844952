"""Quoting approved passages: the sentences of a hit that answer (part of) a question, verbatim.

Quoting approved text is the safest answer there is: it was reviewed by compliance word for word.
A quote keeps whole sentences around the one that best matches the question, never a sentence that
points at content left out ("下表汇总了…" without the table), and never the passage's own risk notice
(the required wording is appended once, at the end of the reply).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from bot.compliance.outgoing import disclosure_wording
from bot.knowledge.lexical import Tokenizer
from bot.knowledge.models import Answer, Hit
from bot.knowledge.questions import names_a_figure, points_back, points_forward
from bot.language import Language

MESSAGES_FILE = Path(__file__).parent / "data" / "messages.yml"
_SPLIT = re.compile(r"(?<=[。！？；!?;])|\n+|(?<=[.])\s+(?=[A-Z0-9“\"(])")
# English sentences end at . ! ? (a semicolon joins clauses of one sentence).
_SPLIT_EN = re.compile(r"(?<=[!?])\s+|\n+|(?<=[.])\s+(?=[A-Z0-9“\"(])")
# A passage's own risk-notice line: the required wording is appended once, at the end, instead.
_NOTICE = re.compile(r"^(?:风险提示|风险揭示|Risk notice|Risk warning)\s*[:：]", re.I)
_STOPS = ("。", "！", "？", ".", "!", "?", "”", '"', "）", ")")
#: Passages this close (share of the best relevance) count as equally good.
NEAR_BEST = 0.85
CJK = re.compile(r"[\u3400-\u9fff]")
_BRACKETED = re.compile(r"\([^()]*\)|（[^（）]*）")
#: Share of Chinese characters (outside brackets) above which an English sentence is not quoted.
MAX_FOREIGN_SHARE = 0.05
#: English needs more characters than Chinese for the same content.
EN_CHAR_FACTOR = 2.2
#: A sentence this long or longer found inside the required wording is part of it (shorter: a coincidence).
_MIN_WORDING_PART = 6


@lru_cache(maxsize=1)
def messages() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(MESSAGES_FILE.read_text(encoding="utf-8"))
    return data


def message(key: str, language: Language, **values: str) -> str:
    text: str = messages()[key][language]
    return text.format(**values) if values else text


def decline(language: Language, *, unavailable: bool = False, reason: str = "decline") -> Answer:
    """Never a guess: say so, and offer a human advisor."""
    text = message("unavailable" if unavailable else reason, language)
    return Answer(answer=text, citations=[], grounded=False, mode="extractive", disclosures=[])


def reads_as(sentence: str, language: Language) -> bool:
    """An English sentence may gloss a Chinese term or name in brackets ("management fee (管理费)");
    one with Chinese in its running text is not English."""
    if language == "zh":
        return True
    running = _BRACKETED.sub("", sentence)
    return len(CJK.findall(running)) <= MAX_FOREIGN_SHARE * len(running)


def notices(text: str) -> list[str]:
    """The risk-notice lines of a passage ("风险提示：…", "Risk notice: …")."""
    return [line.strip() for line in text.splitlines() if _NOTICE.match(line.strip())]


def split_sentences(text: str, language: Language = "zh") -> list[str]:
    """Sentences (Chinese: also clauses ended by ；), each an exact substring of `text` once stripped."""
    splitter = _SPLIT_EN if language == "en" else _SPLIT
    return [part.strip() for part in splitter.split(text) if part and part.strip()]


def join_sentences(sentences: Sequence[str]) -> str:
    out = ""
    for sentence in sentences:
        if out and (out[-1].isascii() and sentence[:1].isascii()):
            out += " "
        out += sentence
    return out


@dataclass(frozen=True)
class Quote:
    """The sentences quoted from one hit (each an exact substring of the hit's approved text)."""

    hit: Hit
    sentences: tuple[str, ...]
    cut: bool = False  # the last sentence was cut at a clause end to fit the budget

    @property
    def text(self) -> str:
        text = join_sentences(self.sentences)
        if self.cut:
            return text + "…"
        return text if text.endswith(_STOPS) else text + ("。" if self.hit.language == "zh" else ".")


class Quoter:
    """Picks the sentences of a passage that answer a question, within a character budget."""

    def __init__(self, *, tokenizer: Tokenizer) -> None:
        self._tokenizer = tokenizer

    def sentences(self, hit: Hit, text: str | None = None) -> list[str]:
        """The quotable sentences of a hit's passage (`text`, else the gate's): no risk-notice lines, no
        sentence of the required wording (it is appended once, at the end of the reply)."""
        wording = disclosure_wording("zh") + disclosure_wording("en")
        return [
            s
            for s in split_sentences(hit.text if text is None else text, hit.language)
            if not _NOTICE.match(s) and not _part_of(s, wording) and reads_as(s, hit.language)
        ]

    def quotable(self, hit: Hit, text: str | None = None) -> str:
        """The part of a passage that could be quoted (no notices, no sentences about a figure)."""
        return " ".join(s for s in self.sentences(hit, text) if not names_a_figure(s, hit.language))

    def passage(self, question: str, hit: Hit, weight: Callable[[str], float]) -> str:
        """The hit's passage to quote for `question`: the one whose quotable text holds most of the
        question's weighted words, the gate's own passage on a tie. (The gate picks a source's passage
        by its title and tags as much as by its text, so "the cooling-off period" can come with the
        passage on dividends of the right document.)"""
        texts = list(dict.fromkeys([hit.text, *hit.passages]))
        return max(texts, key=lambda t: self.score(question, self.quotable(hit, t), weight))

    def score(self, question: str, text: str, weight: Callable[[str], float]) -> float:
        """How much of the question's weighted vocabulary `text` holds."""
        present = set(self._tokenizer.tokens(text))
        return sum(weight(t) for t in dict.fromkeys(self._tokenizer.tokens(question)) if t in present)

    def covers(self, question: str, text: str, weight: Callable[[str], float]) -> float:
        """Share (0-1) of the question's weighted vocabulary that `text` holds."""
        whole = self.score(question, question, weight)
        return self.score(question, text, weight) / whole if whole else 0.0

    def novel(self, text: str, said: str, *, share: float = 0.5) -> bool:
        """Whether at least `share` of `text`'s words are not already in `said` (no near-repeats)."""
        words = set(self._tokenizer.tokens(text))
        return bool(words) and len(words - set(self._tokenizer.tokens(said))) >= share * len(words)

    def quote(self, question: str, hit: Hit, budget: int, weight: Callable[[str], float]) -> Quote | None:
        """Whole sentences around the one that best matches `question`, within `budget` characters."""
        sentences = self.sentences(hit, self.passage(question, hit, weight))
        if not sentences:
            return None
        scores = [self.score(question, s, weight) for s in sentences]
        best = max(range(len(sentences)), key=lambda i: (scores[i], -i))
        start, end = self._window(sentences, scores, best, budget)
        language = hit.language
        last = len(sentences) - 1
        # A sentence pointing ahead ("下表…") needs the rest of the passage; one pointing back, what precedes.
        kept = [
            i
            for i in range(start, end + 1)
            if not names_a_figure(sentences[i], language)
            and not (points_forward(sentences[i], language) and (i == end or end < last))
            and not (points_back(sentences[i], language) and i == start)
        ]
        if not kept:
            return None
        chosen = [sentences[i] for i in kept]
        chosen[-1] = chosen[-1].rstrip("；;，,、 ") or chosen[-1]  # the quote ends a sentence, not a clause
        if len(chosen) == 1 and len(chosen[0]) > budget:  # one long sentence: cut at a clause end
            cut = _cut(chosen[0], budget)
            return Quote(hit, (cut,), cut=cut != chosen[0])
        return Quote(hit, tuple(chosen))

    @staticmethod
    def _window(sentences: list[str], scores: list[float], best: int, budget: int) -> tuple[int, int]:
        start = end = best
        length = len(sentences[best])
        while True:
            options = [i for i in (end + 1, start - 1) if 0 <= i < len(sentences)]
            options = [i for i in options if length + len(sentences[i]) <= budget]
            if not options:
                return start, end
            pick = max(options, key=lambda i: (scores[i], i > end))
            if scores[pick] == 0 and length >= budget // 2:
                return start, end
            start, end = min(start, pick), max(end, pick)
            length += len(sentences[pick])


def _part_of(sentence: str, wording: Sequence[str]) -> bool:
    """A sentence of the required wording ("Investing involves risk; invest prudently." is one of its
    sentences): quoted alone it says nothing, and the wording is appended at the end anyway."""
    return any(sentence.rstrip("。.") in w for w in wording) and len(sentence) >= _MIN_WORDING_PART


def _cut(sentence: str, budget: int) -> str:
    """The longest leading run of clauses within `budget` (a quote never ends mid-clause)."""
    clauses = re.split(r"(?<=[，,、：:])", sentence)
    out = ""
    for clause in clauses:
        if out and len(out) + len(clause) > budget:
            break
        out += clause
    return out.rstrip("，,、：: ")


def budget_for(channel: str, language: Language, *, chars: int, voice_chars: int) -> int:
    """Characters an answer may quote on `channel`; English needs about twice as many."""
    budget = voice_chars if channel == "voice" else chars
    return int(budget * EN_CHAR_FACTOR) if language == "en" else budget
