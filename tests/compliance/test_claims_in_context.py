"""The guard judges the claim, not the word: each kind of issue 14, in our own sentences, both ways.

Products and their types come from a small catalogue here, so the deposit and 储蓄国债 exemptions are
shown to follow the catalogue's product type, not the product's name.
"""

from __future__ import annotations

import pytest

from bot.catalogue import CatalogueProduct
from bot.compliance import check, stated_level
from bot.compliance.levels import parse_client_level

STEADY = CatalogueProduct(
    code="JX3", name="季享90天", name_en="Jixiang 90-Day", aliases=("季享",), type="wealth_management", risk_level="R2"
)
INDEX = CatalogueProduct(code="EF1", name="沪深300指数基金", aliases=("沪深300",), type="equity_fund", risk_level="R4")
BOND = CatalogueProduct(
    code="TB1", name="储蓄国债2026第一期", aliases=("储蓄国债",), type="treasury_bond", risk_level="R1"
)
CD = CatalogueProduct(code="CD1", name="三年期大额存单", aliases=("大额存单",), type="deposit", risk_level="R1")
CATALOGUE = (STEADY, INDEX, BOND, CD)


def rules_hit(text: str, client: str | None = None, products: tuple[CatalogueProduct, ...] = CATALOGUE) -> set[str]:
    result = check(text, client_risk_level=client, products=products, require_disclosures=False)
    return {v.rule for v in result.violations}


@pytest.mark.parametrize(
    "text",
    [
        "季享您踏踏实实放着，到期本金一分钱都不会少您的。",  # certainty without 保本
        "这只指数基金就是稳稳地往上走。",
        "Your capital stays intact whatever happens, I promise.",
        "亏了算行里的，您别担心。",  # the bank covers a loss
        "If it underperforms, the bank makes up the shortfall.",
        "您投十万季享，明年这个时候就变成十万三千了。",  # a number as a certain future return
        "Put in 10,000 and you'll walk away with 10,300.",
        "季享前面六期都到了基准上限，这期照样没问题。",  # past performance used to predict
        "It has beaten the market five years running, so expect the same next year.",
        "季享其实就跟活期存款差不多，想取就取。",  # deposit-like framing of a wealth product
        "Think of Jixiang as a fixed deposit with better interest.",
    ],
)
def test_claims_in_ordinary_words_are_caught(text: str) -> None:
    assert rules_hit(text, client="C5")


@pytest.mark.parametrize(
    "text",
    [
        "谁也不能承诺理财到期一分不少。",  # negation
        "没有一款基金能做到只涨不跌。",
        "Nothing about this fund is guaranteed; its value can fall.",
        "如果有人说这款产品只涨不跌，那是违规宣传，您千万别信。",  # attribution, refuted after
        "别信那些说理财和存款一样安全的人。",  # warning before the attribution
        "Don't trust anyone who says the bank will cover your losses.",
        "Be careful with ads that call a fund 'risk-free' or 'the best on the market'.",  # quoted claims
        "收益多少我说不准，要看市场。",  # refusal
        "I won't put a number on the return; it depends on the markets.",
        "您是想保本，还是可以承担一点风险？",  # question
        "季享到期后本金和收益会在一个工作日内到账，金额以实际净值为准。",  # operations
        "You'll get your money back within one business day after you redeem.",
        "季享过去一年年化2.8%，过往业绩不代表未来表现，今年可能更低。",  # past with its disclaimer
    ],
)
def test_what_only_looks_like_a_claim_passes(text: str) -> None:
    assert rules_hit(text, client="C5") == set()


def test_repaying_principal_and_interest_is_a_fact_for_a_bond_or_a_deposit_by_type() -> None:
    fact = "安心宝到期还本付息，本金安全。"
    as_bond = CatalogueProduct(code="A1", name="安心宝", type="treasury_bond", risk_level="R1")
    as_deposit = as_bond.model_copy(update={"type": "deposit", "is_wealth": False})
    as_wealth = CatalogueProduct(code="A1", name="安心宝", type="wealth_management", risk_level="R1")
    assert rules_hit(fact, products=(as_bond,)) == set()
    assert rules_hit(fact, products=(as_deposit,)) == set()
    assert "guarantee" in rules_hit(fact, products=(as_wealth,))


def test_the_subject_is_the_nearest_product_not_the_first() -> None:
    # A deposit named first and then left behind does not exempt the wealth product described.
    assert "deposit_confusion" in rules_hit("您的大额存单到期了，可以转到季享，也是一种存款，利息还高。")
    # ... and what a fund buys is not what the sentence is about.
    assert "guarantee" in rules_hit("这只指数基金买的都是国债，不会有任何损失。")
    assert rules_hit("储蓄国债由国家偿还，到期一定能拿回本金和利息。") == set()


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        ("您先把认购单签了，风险测评回头再补。", "sale_before_assessment"),
        ("测评的事您别管了，我先给您把季享的额度占上。", "sale_before_assessment"),
        ("The questionnaire can wait; I'll lock in your allocation today.", "sale_before_assessment"),
        ("问卷第6题您勾C，分数就够平衡型了。", "assessment_coaching"),
        ("测评我替您做了，您签字就行。", "assessment_coaching"),
        (
            "Just say you've invested in stocks for ten years and the system will rate you higher.",
            "assessment_coaching",
        ),
    ],
)
def test_abuse_of_the_risk_assessment(text: str, rule: str) -> None:
    assert rule in rules_hit(text, client="C2")


@pytest.mark.parametrize(
    "text",
    [
        "测评做完才能购买，我们先把测评做了。",
        "风险测评需要您本人完成，我不能帮您填。",
        "问卷请您按实际情况如实选择。",
        "如果有人让您把测评答案改高一点，请直接拒绝并投诉。",
        "You need a valid assessment before you can buy.",
    ],
)
def test_the_assessment_done_right_passes(text: str) -> None:
    assert rules_hit(text, client="C2") == set()


@pytest.mark.parametrize(
    ("text", "client", "expected"),
    [
        ("您是C2，我推荐您上一点沪深300。", "C2", {"suitability"}),  # an alias, recommended in natural words
        ("我觉得季享您可以少配一点。", "C1", {"suitability"}),
        ("The Jixiang 90-Day would be a good pick for you.", "C1", {"suitability"}),
        ("您是C3，这款R4的产品我强烈推荐。", "C3", {"suitability"}),  # a product named by its rating only
        ("您是保守型，不过季享也不错，推荐您买点。", "C3", {"suitability"}),  # the text's own word on the level
        ("您是C2，季享R2可以考虑，净值会有波动。", "C2", set()),
        ("如果您一年内要用这笔钱，我建议别买季享。", "C1", set()),
        ("这款R4的产品不适合您。", "C2", set()),
    ],
)
def test_suitability_in_natural_words(text: str, client: str, expected: set[str]) -> None:
    assert rules_hit(text, client=client) == expected


@pytest.mark.parametrize(
    ("text", "level"),
    [
        ("我测的是稳健型，激进的我可不敢买。", "C2"),  # a level ruled out is not hers
        ("我不是进取型，是平衡型。", "C3"),
        ("I'm conservative, definitely not aggressive.", "C1"),
        ("It came out as Balanced, C3.", "C3"),
        ("I'm a growth investor.", "C4"),
        ("I'd like something stable.", None),  # a wish, not a level
        ("我想要稳健一点的产品。", None),
    ],
)
def test_levels_clients_state(text: str, level: str | None) -> None:
    assert stated_level(text) == level


@pytest.mark.parametrize(
    ("given", "level"),
    [("C3", 3), ("稳健型", 2), ("进取", 5), ("Balanced", 3), ("steady", 2), ("Growth", 4), (" c1 ", 1)],
)
def test_levels_given_by_name(given: str, level: int) -> None:
    assert parse_client_level(given) == level


def test_past_performance_disclaimer_only_when_performance_is_shown() -> None:
    needs = check("季享去年年化3.1%。", products=CATALOGUE, client_risk_level="C2")
    assert "missing_performance_disclaimer" in {v.rule for v in needs.violations}
    plain = check("季享不保本也不承诺收益。理财非存款、产品有风险、投资须谨慎。", products=CATALOGUE)
    assert plain.ok


def test_a_product_named_in_english_with_its_rating_needs_the_risk_disclosure() -> None:
    result = check("The Jixiang 90-Day, rated R2, could fit your plans.", products=CATALOGUE, client_risk_level="C2")
    assert [v.rule for v in result.violations] == ["missing_risk_disclosure"]
    rated_only = check("An R3 product could fit your plans.", client_risk_level="C3")
    assert "missing_risk_disclosure" in {v.rule for v in rated_only.violations}
