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


def test_a_pronoun_or_an_omitted_subject_takes_the_subject_of_the_sentence_before() -> None:
    assert rules_hit("大额存单是存款。它受存款保险保障。") == set()
    assert rules_hit("The Three-Year CD is a deposit. It is covered by deposit insurance.") == set()
    assert rules_hit("大额存单是存款。到期还本付息，本金安全。") == set()
    assert "deposit_confusion" in rules_hit("季享是理财。它受存款保险保障。")
    assert "guarantee" in rules_hit("季享是理财。到期还本付息。")


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


# Each kind as a small grammar: every combination of a certainty/track record/deferral with an outcome/
# future/sale must be caught, and the hedged, refused or attributed forms must pass. A kind that only
# works for the one wording a labeller happened to use fails here.
JINXIU = CatalogueProduct(
    code="JX",
    name="锦绣90天持有期理财",
    name_en="Jinxiu 90-Day",
    aliases=("锦绣",),
    type="wealth_management",
    risk_level="R2",
)
PIONEER = CatalogueProduct(
    code="KJ",
    name="科技先锋股票基金",
    name_en="Tech Pioneer Fund",
    aliases=("科技先锋",),
    type="equity_fund",
    risk_level="R4",
)
GRAMMAR = (JINXIU, PIONEER)
CERTAIN_ZH = ("肯定", "一定", "绝对", "保证", "百分百", "稳稳", "铁定", "必然", "包您")
OUTCOME_ZH = ("能拿回本金", "有收益", "能赚钱", "不会亏", "能回本", "有钱拿", "比存款强", "能拿到利息")
CERTAIN_EN = ("definitely", "certainly", "surely", "100%", "absolutely")
OUTCOME_EN = ("get your money back", "make a profit", "earn a return", "come out ahead", "make money")
PAST_ZH = ("锦绣过去三年每年都有3%以上", "锦绣成立以来年年跑赢基准", "锦绣前五期都达到了基准上限", "锦绣去年收益3.5%")
FUTURE_ZH = ("今年也差不了", "这一期也一样", "明年照样能有这个数", "您买了也能拿到这么多", "您这次也不会例外")
PAST_EN = ("Jinxiu beat its benchmark five years running", "The last four series of Jinxiu all paid 3.2%")
FUTURE_EN = ("so this year will be the same", "so you can expect the same", "so you'll get that too")
DEFER_ZH = ("测评回头再做", "问卷以后补", "测评不着急", "风险测评走个形式", "不用做测评", "测评过期了没关系")
SALE_ZH = ("我先给您下单", "先把钱转进来", "额度先给您锁上", "我直接给您办了")
DEFER_EN = ("We'll do the risk assessment later", "The questionnaire can wait", "Skip the assessment for now")
SALE_EN = ("I'll place the order now", "let's lock in the quota", "let's get your money in first")


def judged(text: str, client: str = "C2") -> bool:
    return not check(text, client_risk_level=client, products=GRAMMAR, require_disclosures=False).ok


def combos(template: str, firsts: tuple[str, ...], seconds: tuple[str, ...]) -> list[str]:
    return [template.format(a=a, b=b) for a in firsts for b in seconds]


@pytest.mark.parametrize(
    "text",
    [
        *combos("锦绣到期{a}{b}。", CERTAIN_ZH, OUTCOME_ZH),
        *combos("With the Jinxiu 90-Day you will {a} {b}.", CERTAIN_EN, OUTCOME_EN),
        *combos("{a}，{b}。", PAST_ZH, FUTURE_ZH),
        *combos("{a}, {b}.", PAST_EN, FUTURE_EN),
        *combos("{a}，{b}。", DEFER_ZH, SALE_ZH),
        *combos("{a}, {b}.", DEFER_EN, SALE_EN),
    ],
)
def test_each_kind_is_caught_in_every_combination_of_its_parts(text: str) -> None:
    assert judged(text)


@pytest.mark.parametrize(
    "text",
    [
        *combos("我不能说锦绣到期{a}{b}。", CERTAIN_ZH, OUTCOME_ZH),
        *combos("有人说锦绣到期{a}{b}，这是违规的说法。", CERTAIN_ZH[:3], OUTCOME_ZH),
        *combos("I can't say you will {a} {b} with the Jinxiu 90-Day.", CERTAIN_EN, OUTCOME_EN),
        *combos("{a}，但过往业绩不代表未来表现，今年可能更低。{b}", PAST_ZH, ("",)),
        *combos("{a}, but past performance does not predict future returns.{b}", PAST_EN, ("",)),
    ],
)
def test_the_refused_attributed_or_disclaimed_forms_pass(text: str) -> None:
    assert not judged(text)
