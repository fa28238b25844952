"""Understanding a callback time in the client's own words ("明天下午3点", "tomorrow at 5pm", "晚点")."""

from __future__ import annotations

import re
from datetime import datetime, time, timedelta

_DAY_ZH = {"今天": 0, "今晚": 0, "明天": 1, "明早": 1, "明晚": 1, "后天": 2}
_DAY_EN = {"today": 0, "tonight": 0, "tomorrow": 1}
_PART_ZH = {
    "上午": 10,
    "早上": 9,
    "明早": 9,
    "中午": 12,
    "下午": 15,
    "傍晚": 18,
    "晚上": 19,
    "今晚": 19,
    "明晚": 19,
}
_PART_EN = {"morning": 10, "noon": 12, "afternoon": 15, "evening": 19, "tonight": 19}
_CN_DIGITS = {
    "一": 1,
    "二": 2,
    "两": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
    "十": 10,
}
_HOUR_ZH = re.compile(r"(\d{1,2}|十[一二]?|[一二两三四五六七八九])\s*[点點时](半)?")
_HOUR_EN = re.compile(r"\b(\d{1,2})(?::(\d{2}))?\s*(am|pm)?\b", re.IGNORECASE)
_IN_HOURS = re.compile(r"(\d+|[一二两三四五六七八九十半])\s*(?:个)?小时(?:后|以后|之后)|in\s+(\d+)\s+hours?", re.I)
_IN_MINUTES = re.compile(r"(\d+)\s*分钟(?:后|以后|之后)|in\s+(\d+)\s+min", re.IGNORECASE)


def _cn_number(token: str) -> int:
    if token.isdigit():
        return int(token)
    if token.startswith("十"):
        return 10 + (_CN_DIGITS.get(token[1:], 0) if len(token) > 1 else 0)
    return _CN_DIGITS[token]


def parse_callback_time(text: str, now: datetime) -> datetime | None:
    """A concrete time after `now`, or None when the text names no time at all."""
    lowered = text.lower()
    if match := _IN_HOURS.search(text):
        token = match.group(1) or match.group(2)
        hours = 0.5 if token == "半" else _cn_number(token)
        return now + timedelta(hours=hours)
    if match := _IN_MINUTES.search(text):
        return now + timedelta(minutes=int(match.group(1) or match.group(2)))
    day = next((d for word, d in _DAY_ZH.items() if word in text), None)
    if day is None:
        day = next((d for word, d in _DAY_EN.items() if word in lowered), None)
    hour = next((h for word, h in _PART_ZH.items() if word in text), None)
    if hour is None:
        hour = next((h for word, h in _PART_EN.items() if re.search(rf"\b{word}\b", lowered)), None)
    minute = 0
    if match := _HOUR_ZH.search(text):
        explicit = _cn_number(match.group(1))
        minute = 30 if match.group(2) else 0
        afternoon = any(w in text for w in ("下午", "晚上", "傍晚", "今晚", "明晚"))
        hour = explicit + 12 if afternoon and explicit < 12 else explicit
    elif (match := _HOUR_EN.search(lowered)) and (match.group(3) or match.group(2)):
        explicit = int(match.group(1))
        minute = int(match.group(2) or 0)
        hour = explicit + 12 if match.group(3) == "pm" and explicit < 12 else explicit
    if day is None and hour is None:
        return None
    target_date = now.date() + timedelta(days=day or 0)
    candidate = datetime.combine(target_date, time(hour if hour is not None else 10, minute), tzinfo=now.tzinfo)
    if candidate <= now:
        candidate += timedelta(days=1)
    return candidate
