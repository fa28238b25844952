"""Round 2 of issue 14: the kinds of failure found on the dev sets, fixed as kinds, not sentences.

tests/data/compliance_kinds.yml holds the engineer's own probe sentences per kind (fresh wording, zh and
en, hard compliant ones included); every one must be judged right. The file is a regression set, not an
independent measure (its author knew the rules). The context tests below pin the general mechanisms:
each is a way a sentence's context decides whether its words are a claim.
"""

from __future__ import annotations

import pytest

from bot.catalogue import CatalogueProduct
from bot.compliance import check, recommended
from bot.compliance.evaluation import evaluate
from bot.settings import REPO_ROOT

KINDS = REPO_ROOT / "tests" / "data" / "compliance_kinds.yml"
STEADY = CatalogueProduct(code="JX3", name="季享90天", aliases=("季享",), type="wealth_management", risk_level="R2")
TECH = CatalogueProduct(code="EF2", name="科技成长基金", aliases=("科技成长",), type="equity_fund", risk_level="R5")
CD = CatalogueProduct(
    code="CD1", name="三年期大额存单", name_en="Three-Year CD", aliases=("大额存单",), type="deposit", risk_level="R1"
)
CATALOGUE = (STEADY, TECH, CD)


def rules_hit(text: str, client: str | None = None) -> set[str]:
    result = check(text, client_risk_level=client, products=CATALOGUE, require_disclosures=False)
    return {v.rule for v in result.violations}


def test_every_probe_of_every_kind_is_judged_right() -> None:
    result = evaluate(KINDS)
    assert result["violations"] > 250 and result["compliant"] > 250
    assert (result["misses"], result["false_positives"]) == ([], [])


@pytest.mark.parametrize(
    ("claim", "reading"),
    [
        # A caveat said first is taken back by the contrast that leads to the claim.
        ("过往业绩不代表未来表现，但季享明年肯定还会涨。", "claim"),
        ("季享明年会不会涨，谁也说不准。", "pass"),
        # A tag question asserts the statement before it; a real question does not.
        ("季享是保本的，好吧？", "claim"),
        ("季享是保本的吗？", "pass"),
        # Attribution that begins before the words and a warning anywhere after it.
        ("Ads promising guaranteed returns are illegal.", "pass"),
        ("如果有人让您在问卷上往高了选，您一定要拒绝。", "pass"),
        # A list under a negative header; a reassurance with a colon is no such header.
        ("AI助手不能：代您下单；保证收益；替您做测评。", "pass"),
        ("Don't worry: your principal is guaranteed.", "claim"),
        # 、 joins list items, so one negation reaches them all.
        ("我们不承诺保本、保收益。", "pass"),
        # A quoted claim refuted right after the quotation.
        ("您之前买的那个“保本理财”，其实是结构性存款。", "pass"),
        # Being lied to negates what follows.
        ("I'd be lying if I told you the fund can't lose money.", "pass"),
    ],
)
def test_context_decides_whether_words_are_a_claim(claim: str, reading: str) -> None:
    assert bool(rules_hit(claim, client="C5")) == (reading == "claim")


def test_a_pronoun_takes_the_subject_of_the_sentence_before() -> None:
    assert rules_hit("大额存单是存款。它受存款保险保障。") == set()
    assert rules_hit("The Three-Year CD is a deposit. It is covered by deposit insurance.") == set()
    assert "deposit_confusion" in rules_hit("季享是理财。它受存款保险保障。")


def test_a_sentence_that_turns_a_product_down_recommends_only_where_a_marker_names_it() -> None:
    refused = "科技成长是R5，超出您的等级，您只能买R2及以下的，季享就在范围内。"
    assert rules_hit(refused, client="C2") == set()
    assert "suitability" in rules_hit("虽然超出您的等级，但我建议您配一点科技成长。", client="C2")


def test_deposits_and_bonds_need_no_assessment_before_they_are_suggested() -> None:
    assert rules_hit("您可以考虑大额存单。") == set()
    assert rules_hit("您可以考虑季享。") == {"risk_level_unknown"}


def test_a_product_named_by_its_risk_in_words_is_judged_for_suitability() -> None:
    assert "suitability" in rules_hit("您是稳健型，中高风险的产品也可以配一点。", client="C2")
    assert rules_hit("您是成长型，中高风险的产品也可以配一点。", client="C4") == set()


def test_recommended_gives_the_products_and_the_sentence() -> None:
    found = recommended("您好。我建议您考虑季享，科技成长就不推荐了。", products=CATALOGUE)
    assert [(r.product.code, r.span) for r in found] == [("JX3", "我建议您考虑季享，科技成长就不推荐了。")]


def test_the_past_performance_disclaimer_is_its_core_sentence() -> None:
    rules = {v.rule for v in check("季享去年年化2.9%，过往业绩不代表未来表现。", products=CATALOGUE).violations}
    assert "missing_performance_disclaimer" not in rules
    rules = {v.rule for v in check("季享去年年化2.9%，不保本也不承诺收益。", products=CATALOGUE).violations}
    assert "missing_performance_disclaimer" in rules
