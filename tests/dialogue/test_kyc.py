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


@pytest.mark.parametrize(
    ("slot", "text", "expected"),
    [
        # ages as numbers, in words, with 岁/多/出头
        ("q_age", "45", 1),
        ("q_age", "今年63岁", 3),
        ("q_age", "五十出头", 2),
        ("q_age", "二十八", 0),
        ("q_age", "六十多了", 3),
        # plain descriptions
        ("q_experience", "从来没买过", 0),
        ("q_experience", "就买过国债", 0),
        ("q_experience", "买过余额宝那种", 1),
        ("q_experience", "没买过基金", 0),
        ("q_experience", "炒股好多年了 期货也做", 3),
        # amounts with 万/k/m, ranges, 左右/上下, vague numbers
        ("q_assets", "80万左右", 2),
        ("q_assets", "二三十万吧", 1),
        ("q_assets", "十几万", 1),
        ("q_assets", "大概5万", 0),
        ("q_assets", "不到10万", 0),
        ("q_assets", "20到60万", 1),  # a range counts by its middle
        ("q_assets", "roughly 2m", 2),
        ("q_assets", "300k-500k", 1),
        ("q_assets", "五百万以上", 3),
        # horizons
        ("q_horizon", "半年", 0),
        ("q_horizon", "两三年", 1),
        ("q_horizon", "四年左右", 2),
        ("q_horizon", "十年以上", 3),
        ("q_horizon", "6个月", 0),
        # losses
        ("q_loss", "亏一分都不行", 0),
        ("q_loss", "百分之三", 1),
        ("q_loss", "15%也能接受", 2),
        ("q_loss", "亏30%也无所谓", 3),
        # objectives in plain words; the option's own text (what its button sends)
        ("q_objective", "钱要随时能取出来", 0),
        ("q_objective", "平衡收益与风险", 2),
        ("q_objective", "liquidity, access any time", 0),
    ],
)
def test_natural_answers_are_understood(slot: str, text: str, expected: int) -> None:
    assert parse_answer(questionnaire().question(slot), text) == expected


def test_every_option_text_and_button_reads_back_as_its_option() -> None:
    for question in questionnaire().questions:
        for index, option in enumerate(question.options):
            assert parse_answer(question, option.label.zh) == index, (question.slot, option.label.zh)
            assert parse_answer(question, option.label.en) == index, (question.slot, option.label.en)


def test_a_keyword_inside_a_question_is_no_answer() -> None:
    experience = questionnaire().question("q_experience")
    assert parse_answer(experience, "what is a money market fund", loose=False) is None
    assert parse_answer(experience, "money market", loose=True) == 1
    assert parse_answer(experience, "B", loose=False) == 1  # a letter is an answer however it is asked


@pytest.mark.parametrize(
    ("text", "value"),
    [("一百五", 150), ("两千三", 2300), ("六十三", 63), ("十几", 13), ("一两", 1.5), ("12", 12)],
)
def test_chinese_numerals(text: str, value: float) -> None:
    from bot.kyc.numbers import cn_number

    assert cn_number(text) == value
