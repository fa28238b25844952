"""Make chat text speakable: no markdown, links or citation brackets, and short enough for one breath."""

from __future__ import annotations

import re

_URL = re.compile(r"https?://\S+|www\.\S+")
_CITATION = re.compile(r"\[[^\]\n]{1,40}\]|【[^】\n]{1,40}】")
_MARKUP = re.compile(r"[*_`#>|~]+")
_BULLET = re.compile(r"^\s*(?:[•·\-–]|\d+[.)、])\s*", re.MULTILINE)
_SENTENCE = re.compile(r"[^。！？!?；;.\n]+(?:[。！？!?；;]|\.(?!\d)|\n|$)")
# Sentences carrying required risk wording are never cut, whatever the length limit.
_REQUIRED = ("风险", "非存款", "谨慎", "risk", "not deposits", "prudent")


def speakable(text: str) -> str:
    """Strip what a listener cannot use (links, citation marks, markdown) and join lines into sentences."""
    text = _URL.sub("", text)
    text = _CITATION.sub("", text)
    text = _BULLET.sub("", text)
    text = _MARKUP.sub("", text)
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    joined = ""
    for line in lines:
        if joined and joined[-1] not in "。！？!?；;.，,：:":
            joined += "。" if _is_chinese(line) else "."
        if joined and not _is_chinese(line):
            joined += " "
        joined += line
    return re.sub(r"\s{2,}", " ", joined).strip()


def shorten(text: str, max_chars: int) -> str:
    """Leading sentences up to `max_chars`, plus any sentence with required risk wording."""
    if len(text) <= max_chars:
        return text
    kept: list[str] = []
    used = 0
    for match in _SENTENCE.finditer(text):
        sentence = match.group(0).strip()
        if not sentence:
            continue
        required = any(word in sentence.lower() for word in _REQUIRED)
        if used + len(sentence) <= max_chars or required or not kept:
            kept.append(sentence[:max_chars] if not required and not kept else sentence)
            used += len(sentence)
    return " ".join(kept) if not _is_chinese(text) else "".join(kept)


def _is_chinese(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)
