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
    ],
)
def test_stated_level(recogniser: Recogniser, text: str, level: str | None) -> None:
    assert recogniser.stated_level(text) == level


def test_client_objections(recogniser: Recogniser) -> None:
    assert recogniser.is_objection("会不会亏钱啊？我有点担心。")
    assert recogniser.is_objection("Is this covered by deposit insurance?")
    assert not recogniser.is_objection("好的，明白了。")
