"""The lead score (0–100): how soon a human should follow up. Simple on purpose, so staff can predict it.

    score = (base[type] + 10 if a product is named + 10 if an amount is mentioned) × (0.6 + 0.4 × confidence)

Base by type: complaint 80 (must be handled first, and fast), advisor_request 70 (an explicit ask for
a human), product_interest 55, callback_request 45 (the client set the time, so less urgency).
NLU confidence scales the score down to 60 % at worst, because a misread intent is a weaker lead;
None (a button press, no NLU involved) counts as certain. The result is clamped to 0–100.
"""

from __future__ import annotations

import re

BASE_SCORES: dict[str, float] = {
    "complaint": 80,
    "advisor_request": 70,
    "product_interest": 55,
    "callback_request": 45,
}
_DEFAULT_BASE = 40.0
_AMOUNT = re.compile(
    r"[¥￥]\s*\d"
    r"|\d[\d,，.]*\s*(?:百万|万|千|亿|元|块|w\b|k\b|rmb|yuan|cny)"
    r"|[一二两三四五六七八九十百千]+\s*(?:万|千|亿|元|块)",
    re.IGNORECASE,
)


def mentions_amount(text: str) -> bool:
    """Does the client name a sum ("50万", "¥100000", "十万块", "20k")? A sign of real intent to invest."""
    return bool(_AMOUNT.search(text))


def score_lead(
    *, type: str, confidence: float | None, product_named: bool = False, amount_mentioned: bool = False
) -> float:
    """The documented score above, rounded to one decimal."""
    raw = BASE_SCORES.get(type, _DEFAULT_BASE) + 10 * product_named + 10 * amount_mentioned
    certainty = 1.0 if confidence is None else min(max(confidence, 0.0), 1.0)
    return round(min(100.0, max(0.0, raw * (0.6 + 0.4 * certainty))), 1)
