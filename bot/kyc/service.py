"""Scoring the questionnaire to an investor level (parsing answers lives in bot/kyc/parse.py)."""

from __future__ import annotations

from collections.abc import Mapping

from bot.kyc.models import LEVELS, questionnaire
from bot.kyc.parse import parse_answer

__all__ = ["parse_answer", "score"]


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
