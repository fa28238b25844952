"""The pre-assessment: answers by number, letter or words in zh/en; nonsense is refused; scoring."""

from __future__ import annotations

import pytest

from bot.kyc.models import questionnaire
from bot.kyc.service import parse_answer, score
from bot.settings import DialogueSettings

THRESHOLDS = DialogueSettings().risk_level_thresholds


@pytest.mark.parametrize(
    ("slot", "text", "expected"),
    [
        ("q_age", "B", 1),
        ("q_age", "b.", 1),
        ("q_age", "2", 1),
        ("q_age", "选C", 2),
        ("q_age", "（D）", 3),
        ("q_age", "我今年40岁", 1),
        ("q_age", "I'm 67", 3),
        ("q_age", "退休了", 3),
        ("q_experience", "买过理财", 1),
        ("q_experience", "only deposits", 0),
        ("q_horizon", "3-5 years", 2),
        ("q_loss", "一点都不能亏", 0),
        ("q_objective", "第二个", 1),
        ("q_objective", "the fourth one", 3),
        ("q_objective", "balanced", 2),
    ],
)
def test_answers_are_understood(slot: str, text: str, expected: int) -> None:
    assert parse_answer(questionnaire().question(slot), text) == expected


@pytest.mark.parametrize("text", ["banana", "", "   ", "E", "5", "我不知道", "what?"])
def test_nonsense_is_refused(text: str) -> None:
    assert parse_answer(questionnaire().question("q_experience"), text) is None


def _answers(choice: int) -> dict[str, int]:
    return {slot: choice for slot in questionnaire().slots}


def test_scores_span_c1_to_c5_and_loss_aversion_caps_at_c1() -> None:
    assert score(_answers(0), THRESHOLDS)[0] == "C1"
    assert score(_answers(3), THRESHOLDS)[0] == "C5"
    aggressive_but_no_loss = {**_answers(3), "q_loss": 0}
    assert score(aggressive_but_no_loss, THRESHOLDS)[0] == "C1"


def test_thresholds_come_from_config() -> None:
    level, total = score(_answers(1), THRESHOLDS)
    strict = {"C1": 0, "C2": 100, "C3": 200, "C4": 300, "C5": 400}
    assert score(_answers(1), strict) == ("C1", total)
    assert level != "C1"
