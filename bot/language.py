"""Which language a message is written in: Chinese first, English second. The one home of `Language`
and `detect_language` (the guard, the gateway, the knowledge base and the commands all use these)."""

from __future__ import annotations

import re
from typing import Literal

Language = Literal["zh", "en"]

_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002a6df]")
_LATIN = re.compile(r"[A-Za-z]{2,}")


def contains_cjk(text: str) -> bool:
    """True when any CJK ideograph is present; that is how we call a text Chinese."""
    return _CJK.search(text) is not None


def detect_language(text: str) -> Language | None:
    """zh if any Chinese character (so a mixed zh/en text is Chinese and gets Chinese disclosures), en if
    Latin words, None when the text says nothing (digits, emoji, one letter): the caller picks its default
    (the conversation's language, `default_language`, or English for the guard)."""
    if contains_cjk(text):
        return "zh"
    if _LATIN.search(text):
        return "en"
    return None
