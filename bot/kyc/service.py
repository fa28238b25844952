"""Parsing free-form answers (number, letter or words, zh or en) and scoring to an investor level."""

from __future__ import annotations

import re
from collections.abc import Mapping

from bot.kyc.models import LEVELS, Question, questionnaire

_LETTERS = "ABCD"
_CN_NUMERALS = {"一": 1, "二": 2, "三": 3, "四": 4, "两": 2}
_CHOICE = re.compile(
    r"^\s*(?:选|选择|答案是?|我选|option|answer|choice)?\s*[(（]?\s*([A-Da-d1-4一二三四])\s*[)）.、。]?\s*$",
    re.IGNORECASE,
)
_ORDINAL = re.compile(r"第\s*([1-4一二三四])\s*[个项]|the\s+(first|second|third|fourth)", re.IGNORECASE)
_ORDINALS_EN = {"first": 1, "second": 2, "third": 3, "fourth": 4}
_NUMBER = re.compile(r"\d{1,3}")


def parse_answer(question: Question, text: str) -> int | None:
    """Index of the chosen option, or None when the answer is nonsense (the form re-asks)."""
    cleaned = text.strip()
    if not cleaned:
        return None
    if match := _CHOICE.match(cleaned):
        token = match.group(1).upper()
        if token in _LETTERS:
            return _LETTERS.index(token)
        return (int(token) if token.isdigit() else _CN_NUMERALS[token]) - 1
    if match := _ORDINAL.search(cleaned):
        token = match.group(1) or match.group(2)
        value = _ORDINALS_EN.get(token.lower()) if token.isalpha() and token.isascii() else None
        return (value or (int(token) if token.isdigit() else _CN_NUMERALS[token])) - 1
    lowered = cleaned.lower()
    for index, option in enumerate(question.options):
        if any(keyword.lower() in lowered for keyword in option.zh + option.en):
            return index
    if question.numeric_ranges and (number := _NUMBER.search(cleaned)):
        value = int(number.group())
        for index, (low, high) in enumerate(question.numeric_ranges):
            if low <= value <= high:
                return index
    return None


def score(answers: Mapping[str, int], thresholds: Mapping[str, int]) -> tuple[str, int]:
    """(investor level, total points). Caps (e.g. 'no loss acceptable' → C1) override the score."""
    total = 0
    cap_index = len(LEVELS) - 1
    for q in questionnaire().questions:
        option = q.options[answers[q.slot]]
        total += option.points
        if option.cap:
            cap_index = min(cap_index, LEVELS.index(option.cap))
    reached = [LEVELS.index(level) for level, minimum in thresholds.items() if total >= minimum]
    level_index = max(reached, default=0)
    return LEVELS[min(level_index, cap_index)], total
