"""A questionnaire answer in the client's own words → the option it means, or None (the step is re-asked).

Accepted, in this order: an option letter or number ("B", "选2", "第三个"), the option's own text (what its
button sends), a number in natural words for questions that measure one ("45", "十几万吧", "50万到300万",
"半年", "百分之十"), then plain words ("只买过国债", "没买过", "随时能取"). A question that measures nothing
never reads a number as an answer, and nothing here depends on the NLU's intent: "不能接受任何亏损" is
option A even when the classifier hears an opt-out.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable

from bot.kyc import numbers
from bot.kyc.models import LETTERS, Question

_CN_ORDINALS = {"一": 1, "二": 2, "三": 3, "四": 4, "两": 2}
_CHOICE = re.compile(
    r"^\s*(?:选|选择|我选|就选|答案是?|option|answer|choice)?\s*[(（]?\s*([A-Da-d1-4一二三四])\s*[)）.、。]?"
    r"\s*(?:吧|吧。|啊|呀|项|个|选项|好了)?\s*$",
    re.IGNORECASE,
)
_ORDINAL = re.compile(r"第\s*([1-4一二三四])\s*[个项条]|the\s+(first|second|third|fourth)", re.IGNORECASE)
_ORDINALS_EN = {"first": 1, "second": 2, "third": 3, "fourth": 4}
_MEASURES: dict[str, Callable[[str], float | None]] = {
    "age": numbers.age,
    "amount": numbers.amount,
    "years": numbers.years,
    "percent": numbers.percent,
}


def _fold(text: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())


def _choice(text: str) -> int | None:
    if match := _CHOICE.match(text):
        token = match.group(1).upper()
        if token in LETTERS:
            return LETTERS.index(token)
        return (int(token) if token.isdigit() else _CN_ORDINALS[token]) - 1
    if match := _ORDINAL.search(text):
        if match.group(2):
            return _ORDINALS_EN[match.group(2).lower()] - 1
        token = match.group(1)
        return (int(token) if token.isdigit() else _CN_ORDINALS[token]) - 1
    return None


def _by_label(question: Question, folded: str) -> int | None:
    """The option whose text the answer is (a tapped button), or contains ("就选 5%以内 吧")."""
    labels = [(i, _fold(label)) for i, o in enumerate(question.options) for label in (o.label.zh, o.label.en)]
    exact = next((i for i, label in labels if folded == label or folded.rstrip("。.!！") == label), None)
    if exact is not None:
        return exact
    inside = [(len(label), i) for i, label in labels if label in folded]
    return max(inside)[1] if inside else None


def _by_measure(question: Question, folded: str) -> int | None:
    if question.measure is None:
        return None
    value = _MEASURES[question.measure.kind](folded)
    if value is None:
        return None
    return next((i for i, bound in enumerate(question.measure.bounds) if value < bound), len(question.options) - 1)


def _by_keywords(question: Question, folded: str) -> int | None:
    """The option named by the longest keyword found (so 货币基金 is not read as 基金)."""
    found = [
        (len(word), -i, i)
        for i, option in enumerate(question.options)
        for word in option.keywords.all()
        if _fold(word) in folded
    ]
    return max(found)[2] if found else None


def parse_answer(question: Question, text: str, *, loose: bool = True) -> int | None:
    """Index of the chosen option, or None when the answer names none of them (the step is re-asked).

    `loose=False` (the turn reads as a question: "wait, what's a money market fund?") accepts only an
    option's letter, number or own text: a keyword inside a question is not an answer.
    """
    folded = _fold(text)
    if not folded:
        return None
    for reader in (_choice, lambda t: _by_label(question, t)):
        found = reader(folded)
        if found is not None:
            return found
    if not loose:
        return None
    measured = _by_measure(question, folded)
    return measured if measured is not None else _by_keywords(question, folded)
