"""Phone numbers in E.164, so a refusal given on chat matches the number a voice campaign dials."""

from __future__ import annotations

import re

_SEPARATORS = re.compile(r"[\s\-().]")
_E164 = re.compile(r"\+[1-9]\d{6,14}")
_CN_MOBILE = re.compile(r"1[3-9]\d{9}")


def normalize_phone(raw: str) -> str | None:
    """E.164 (`+8613812345678`) or None when the text is not a phone number.

    Accepts the forms Chinese clients type: a bare 11-digit mobile, `86`/`0086`/`+86` prefixes, and
    spaces, dashes, dots or brackets between digits. Landlines without a country code are ambiguous
    (area codes vary in length) and are refused rather than guessed.
    """
    text = _SEPARATORS.sub("", raw.strip())
    if text.startswith("00"):
        text = "+" + text[2:]
    elif _CN_MOBILE.fullmatch(text):
        text = "+86" + text
    elif text.startswith("86") and _CN_MOBILE.fullmatch(text[2:]):
        text = "+" + text
    if not _E164.fullmatch(text):
        return None
    if text.startswith("+86") and text[3:4] == "1" and not _CN_MOBILE.fullmatch(text[3:]):
        return None  # a Chinese mobile must have exactly 11 digits
    return text
