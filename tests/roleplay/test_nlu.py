"""The advisor's moves: KYC questions, recommendations (through the guard), disclosures, bad habits."""

from __future__ import annotations

import pytest

from bot.roleplay.nlu import Recogniser


@pytest.mark.parametrize(
    "text",
    [
        "请问您的风险测评结果是什么类型？",
        "您能接受多大的亏损？",
        "如果跌了10%，您能承受吗？",
        "What is your risk tolerance?",
        "How much could you afford to lose in a bad year?",
        "Are you comfortable with some volatility?",
        # Asked in other words: a style, a type, a tier, a confirmation, a feeling about a fall.
        "您的投资风格偏保守还是激进？",
        "您属于哪种类型的投资者？",
        "您之前的测评还在有效期吗？",
        "测评单您带了吗，确认一下是C4？",
        "How would you feel if the value dropped 10%?",
        "What level did the assessment give you?",
    ],
)
def test_risk_questions(recogniser: Recogniser, text: str) -> None:
    assert "risk_question" in recogniser.advisor(text, "C2").moves


def test_a_statement_about_risk_is_not_a_kyc_question(recogniser: Recogniser) -> None:
    moves = recogniser.advisor("这款产品的风险等级是R2。", "C2").moves
    assert "risk_question" not in moves


def test_recommendation_by_alias_is_seen_by_the_guard(recogniser: Recogniser) -> None:
    analysis = recogniser.advisor("我建议您买沪深300指数基金。", "C2")
    assert "recommendation" in analysis.moves
    assert [r.code for r in analysis.recommended] == ["EF001"]
    assert [v.rule for v in analysis.violations] == ["suitability"]


def test_announcing_a_recommendation_is_not_making_one(recogniser: Recogniser) -> None:
    for text in (
        "恒远咱们先不急，推荐产品前我得先确认一下您的风险测评结果？",
        "为了给您推荐合适的产品，先问一下您的测评结果？",
    ):
        analysis = recogniser.advisor(text, "C3")
        assert "recommendation" not in analysis.moves and "risk_question" in analysis.moves


def test_mentioning_a_product_without_recommending_it(recogniser: Recogniser) -> None:
    analysis = recogniser.advisor("沪深300指数基金的风险等级是R4，不适合您。", "C2")
    assert analysis.recommended == ()
    assert not analysis.violations


def test_guarantee_is_a_critical_claim(recogniser: Recogniser) -> None:
    analysis = recogniser.advisor("这个理财保本，您放心。", "C1")
    assert [v.rule for v in analysis.critical_claims] == ["guarantee"]


@pytest.mark.parametrize(
    ("text", "move"),
    [
        ("理财非存款、产品有风险、投资须谨慎。", "disclosure"),
        ("Wealth products are not deposits and you could lose money.", "disclosure"),
        ("理解您的担心，我们先看看您的需求。", "empathy"),
        ("今天是最后一天，赶紧买吧！", "pressure"),
        ("问卷第五题您就选D，能测到进取型。", "assess_for_client"),
        ("我帮您填一下风险测评吧。", "assess_for_client"),
        ("您好，我是您的理财经理小王。", "greeting"),
        ("有问题随时联系我，再见！", "closing"),
        ("你懂什么，爱买不买。", "rude"),
    ],
)
def test_other_moves(recogniser: Recogniser, text: str, move: str) -> None:
    assert move in recogniser.advisor(text, "C3").moves


@pytest.mark.parametrize(
    ("text", "level"),
    [
        ("我做过测评，是稳健型。", "C2"),
        ("我的等级是C3。", "C3"),
        ("I came out as moderately conservative.", "C2"),
        ("balanced, I think", "C3"),
        ("我不知道。", None),
        # The assessment's tier, a bare name said of oneself, a level in quotes or given by others.
        ("测过的，测评结果是第二档。", "C2"),
        ("亏损承受就选百分之二十那档", None),
        ("我是稳健的。", "C2"),
        ('My risk profile is "balanced" - level three.', "C3"),
        ("They rated me growth.", "C4"),
        ("I'm not aggressive at all, more conservative.", "C1"),
    ],
)
def test_stated_level(recogniser: Recogniser, text: str, level: str | None) -> None:
    assert recogniser.stated_level(text) == level


def test_client_objections(recogniser: Recogniser) -> None:
    assert recogniser.is_objection("会不会亏钱啊？我有点担心。")
    assert recogniser.is_objection("那封闭三年，万一中间要用钱呢？")
    assert recogniser.is_objection("我想回去跟我老公商量一下。")
    assert not recogniser.is_objection("就是怕万一生病要用。")  # a need she states, not a push back
    assert not recogniser.is_objection("我想买点理财，不想冒险。")
    assert recogniser.is_objection("Is this covered by deposit insurance?")
    assert not recogniser.is_objection("好的，明白了。")
