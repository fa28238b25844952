"""The words the dialogue policy reads (cues.yml), and how: found, negated, or said for real.

A cue says how a turn is worded, independently of the NLU's guess: "我有兴趣" carries interest whatever
the classifier scored, and "不是不感兴趣" carries it too (two negations cancel). Matching runs on
NFKC-folded, lower-cased text; a negation counts only inside the cue's own clause, just before it.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml

from bot.errors import ConfigError

CUES_FILE = Path(__file__).with_name("cues.yml")
# Where a clause ends: punctuation, and the spaces colloquial Chinese chat uses instead of it (a space
# between English words ends nothing).
_CLAUSE_END = re.compile(r"[，,。.;；!！?？\n]|(?<=[\u4e00-\u9fff])\s")
_NEGATION_WINDOW = 5  # characters before a cue in which a negation applies to it (English: words × 4)


def fold(text: str) -> str:
    """The form cues are matched in: NFKC (full width → half width), lower case, spaces squeezed."""
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())


@dataclass(frozen=True)
class CueSet:
    """Every cue of cues.yml compiled; `safety` keeps its kinds (fraud, lost_card) apart."""

    patterns: dict[str, re.Pattern[str]]
    safety: dict[str, re.Pattern[str]]

    def pattern(self, name: str) -> re.Pattern[str]:
        return self.patterns[name]

    def has(self, name: str, text: str) -> bool:
        """The cue occurs in `text` (negated or not)."""
        return self.patterns[name].search(fold(text)) is not None

    def said(self, name: str, text: str) -> bool:
        """The cue occurs at least once outside a negation ("感兴趣" in "不是不感兴趣", not in "不感兴趣")."""
        folded = fold(text)
        return any(not self._negated(folded, m.start()) for m in self.patterns[name].finditer(folded))

    def denied(self, name: str, text: str) -> bool:
        """The cue occurs, and every occurrence is negated ("不是要退订", "not interested")."""
        folded = fold(text)
        found = list(self.patterns[name].finditer(folded))
        return bool(found) and all(self._negated(folded, m.start()) for m in found)

    def safety_kind(self, text: str) -> str | None:
        """fraud or lost_card when the client says so (negated mentions count: "我不知道是不是被骗了")."""
        folded = fold(text)
        return next((kind for kind, pattern in self.safety.items() if pattern.search(folded)), None)

    def spans(self, name: str, text: str) -> list[str]:
        """Every text the cue matched (e.g. the programmes a client names: "紫杉计划", "project bluefinch")."""
        return [m.group(0) for m in self.patterns[name].finditer(fold(text))]

    def _negated(self, folded: str, start: int) -> bool:
        clause = max((m.end() for m in _CLAUSE_END.finditer(folded, 0, start)), default=0)
        ascii_before = folded[max(clause, start - 4 * _NEGATION_WINDOW) : start]
        window = ascii_before if ascii_before.isascii() else folded[max(clause, start - _NEGATION_WINDOW) : start]
        return len(self.patterns["negator"].findall(window)) % 2 == 1


def _compile(name: str, raw: object) -> re.Pattern[str]:
    if not isinstance(raw, list) or not all(isinstance(p, str) for p in raw):
        raise ConfigError(f"{CUES_FILE.name}: cue {name!r} must be a list of regular expressions")
    try:
        return re.compile("|".join(f"(?:{p})" for p in raw), re.IGNORECASE)
    except re.error as exc:
        raise ConfigError(f"{CUES_FILE.name}: cue {name!r} is not a valid regular expression: {exc}") from exc


@cache
def cues(path: Path = CUES_FILE) -> CueSet:
    """cues.yml, read and compiled once (on first use, not at import)."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"{path}: cannot load the dialogue cues: {exc}") from exc
    safety = data.pop("safety", {})
    patterns = {name: _compile(name, raw) for name, raw in data.items()}
    return CueSet(patterns=patterns, safety={kind: _compile(kind, raw) for kind, raw in safety.items()})
