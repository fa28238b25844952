"""Round 3 of issue 14: the context mechanisms behind the kinds found on compliance_dev3.yml.

The kinds themselves are probed in tests/data/compliance_kinds.yml (fresh wording, both ways); these
tests pin the general ways a sentence's context, or the catalogue, decides whether words are a claim.
"""

from __future__ import annotations

import pytest

from bot.catalogue import CatalogueProduct
from bot.compliance import check

#: A name made of claim words (安心, 稳赢) is the bank's name for the product, not the speaker's claim.
WIN = CatalogueProduct(code="W1", name="安心稳赢1号", aliases=("稳赢1号",), type="wealth_management", risk_level="R3")
POLICY = CatalogueProduct(code="I1", name="福满分红险", aliases=("福满",), type="insurance", risk_level="R2")
CD = CatalogueProduct(code="CD1", name="三年期大额存单", aliases=("大额存单",), type="deposit", risk_level="R1")
CATALOGUE = (WIN, POLICY, CD)


def rules_hit(text: str, client: str | None = None) -> set[str]:
    result = check(text, client_risk_level=client, products=CATALOGUE, require_disclosures=False)
    return {v.rule for v in result.violations}


def test_a_catalogue_name_made_of_claim_words_is_not_a_claim() -> None:
    assert rules_hit("稳赢1号的风险等级是R3，净值会波动。") == set()
    assert rules_hit("安心稳赢1号不保本，可能亏损。") == set()
    assert "guarantee" in rules_hit("稳赢1号稳赚不赔。")


def test_a_level_word_inside_a_catalogue_name_is_not_the_clients_level() -> None:
    fund = CatalogueProduct(
        code="S1", name="保守型客户专享成长基金", aliases=("保守专享",), type="equity_fund", risk_level="R4"
    )
    text = "您是成长型，推荐您买保守型客户专享成长基金。"
    assert check(text, client_risk_level="C4", products=[fund], require_disclosures=False).violations == []


def test_only_deposits_and_government_bonds_are_exempt_by_type_not_insurance() -> None:
    assert rules_hit("大额存单保本保息。") == set()
    assert "guarantee" in rules_hit("福满的分红年年都有，一分不会少。")
    assert "guarantee" in rules_hit("福满的分红都写进了合同，每年都给足。")


@pytest.mark.parametrize(
    ("text", "reading"),
    [
        # Quotations in a run share the fate of the last one, introduced by what follows it.
        ("“稳赚”“保本”“零风险”这样的字眼都不能用。", "pass"),
        ("“先买后补测评”是不合规的，我们不会这样做。", "pass"),
        # A belief attributed to others is theirs when corrected, the speaker's when endorsed.
        ("Many clients think the fund guarantees their principal, but it doesn't.", "pass"),
        ("很多客户都觉得这款稳赚，您放心买。", "claim"),
        # A bare topic asked at the end questions only itself; the clauses before it stay statements.
        ("这只铁定是正收益，回撤？不存在的。", "claim"),
        ("收益能有多少？要看市场。", "pass"),
        # An amount left open, and a topic the speaker denies having or saying, are not asserted.
        ("能赚多少我没法说，要看市场。", "pass"),
        ("保本的产品我们没有，理财都有风险。", "pass"),
        ("稳赚这种话我从来不说。", "pass"),
        # A question that cannot be answered no (还能让您亏钱？) is a claim.
        ("这么大的银行，还能让您在稳赢1号上亏钱？", "claim"),
    ],
)
def test_context_decides_whether_words_are_a_claim(text: str, reading: str) -> None:
    assert bool(rules_hit(text)) == (reading == "claim")


@pytest.mark.parametrize(
    ("text", "reading"),
    [
        ("这款一年肯定有三点几。", "claim"),
        ("这款理财年化3.6稳稳到手。", "claim"),
        ("下午三点一刻我给您回电话。", "pass"),
        ("大额存单的利率是2.1%，稳赢1号没有利率，只有业绩比较基准。", "pass"),
        ("稳赢1号的利率是3.1%，比定期高。", "claim"),
    ],
)
def test_rates_said_aloud_and_deposit_words_follow_the_product_type(text: str, reading: str) -> None:
    assert bool(rules_hit(text)) == (reading == "claim")
