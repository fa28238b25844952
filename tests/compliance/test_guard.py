"""The compliance guard: each rule both ways, exact spans, disclosures, suitability, the labelled-set bar."""

from __future__ import annotations

from pathlib import Path

import pytest

import bot.compliance as compliance
from bot.compliance import GuardResult, ProductRef, check, disclosures_for
from bot.compliance.evaluation import evaluate, load_labelled
from bot.compliance.rules import RULES_PATH, RulesFileError, load_rules, parse_rules
from bot.language import detect_language

LABELLED = Path(__file__).parents[1] / "data" / "compliance_labelled.yml"

STEADY = ProductRef(code="WM30", name="稳享30天持有期", name_en="Steady 30-Day", risk_level="R2")
GROWTH = ProductRef(code="GR88", name="稳进成长混合", name_en="Growth Plus Mixed", risk_level="R4")
CD = ProductRef(code="CD253", name="大额存单2025第3期", risk_level="R1", is_wealth=False)
CATALOGUE = (STEADY, GROWTH, CD)


def claims(text: str, **kwargs: object) -> set[str]:
    """Rules hit, judging claims only (disclosures off), as the labelled set does."""
    result = check(text, require_disclosures=False, **kwargs)  # type: ignore[arg-type]
    return {v.rule for v in result.violations}


# ------------------------------------------------------------------ forbidden claims, both directions


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        ("这款理财保本保息，放心买。", "guarantee"),
        ("本金一分都不会少。", "guarantee"),
        ("银行会兜底的。", "guarantee"),
        ("放心，绝对不会亏。", "guarantee"),
        ("This product is risk-free.", "guarantee"),
        ("Don't worry, you can't lose.", "guarantee"),
        ("Your principal is safe whatever happens.", "guarantee"),
        ("不用担心，稳赚不赔。", "guarantee"),
        ("这款产品不保本但保收益。", "guarantee"),  # contrast resets the negation
        ("肯定能拿到4%。", "certain_return"),
        ("每年固定给你5%。", "certain_return"),
        ("You will definitely earn 4%.", "certain_return"),
        ("It pays a sure 5% return.", "certain_return"),
        ("预期收益率4.2%。", "expected_return"),
        ("这只基金明年能涨20%。", "expected_return"),
        ("The expected return is 4%.", "expected_return"),
        ("业绩比较基准4.5%，很不错。", "expected_return"),  # benchmark shown alone as a number
        ("这个理财就跟存款一样。", "deposit_confusion"),
        ("和定期存款一样安全。", "deposit_confusion"),
        ("It's basically a savings deposit.", "deposit_confusion"),
        ("这是全国第一的理财。", "exaggeration"),
        ("这是最安全的产品。", "exaggeration"),
        ("This is the best fund around.", "exaggeration"),
        ("We are number one in the country.", "exaggeration"),
    ],
)
def test_forbidden_claims_are_flagged(text: str, rule: str) -> None:
    assert rule in claims(text)


@pytest.mark.parametrize(
    "text",
    [
        "本产品不保本。",
        "理财产品不保证本金和收益。",
        "我们不承诺保本保收益。",
        "理财非存款，产品有风险，投资须谨慎。",
        "This product does not guarantee principal.",
        "Returns are not guaranteed.",
        "No wealth product is risk-free.",
        "业绩比较基准2.6%-3.2%，不是预期收益率，不代表未来表现。",
        "大额存单属于存款，受存款保险保护。",
        "大额存单保本保息。",  # a real deposit
        "最低起购金额1元。",
        "最高可申购额度为50万元。",
        "第一步，完成风险测评。",
        "最近市场波动较大。",
        "您最好先阅读产品说明书。",
        "您问：“这个产品保本吗？”答案是不保本。",
        "您担心会不会亏，这是正常的。",
        "You asked whether it is guaranteed. It is not.",
        "很多人以为理财就是存款，其实不是。",
        "我们无法预测明年能涨多少。",
        "Nobody can promise that you won't lose money.",
        "R5 is the highest risk level.",
    ],
)
def test_compliant_text_passes(text: str) -> None:
    assert claims(text) == set()


def test_hearsay_is_a_claim_unless_refuted() -> None:
    assert "guarantee" in claims("听说这款产品保本。")
    assert claims("有人说这款产品保本，这种说法是错误的。") == set()


def test_criticality_follows_the_regulation() -> None:
    result = check("这是最好的理财，保本保息。", require_disclosures=False)
    critical = {v.rule: v.critical for v in result.violations}
    assert critical == {"exaggeration": False, "guarantee": True}


def test_certain_return_supersedes_expected_return_in_one_sentence() -> None:
    assert claims("这款理财每年肯定能拿到4%的收益。") == {"certain_return"}


# ------------------------------------------------------------------ spans


@pytest.mark.parametrize(
    "text",
    [
        "您好！这款理财保本保息，放心。收益也不错",
        "ＡＢＣ理财：保本保息！！",  # full-width letters and punctuation
        "This 理财 is risk-free, 收益4%稳拿.",  # mixed zh/en
        "保\u200b本的理财，放心买。",  # zero-width character used to dodge filters
        "  \n  It is guaranteed.  \n",
    ],
)
def test_spans_are_exact_substrings(text: str) -> None:
    result = check(text, products=CATALOGUE, client_risk_level="C1")
    assert result.violations
    for violation in result.violations:
        assert violation.span and violation.span in text


def test_span_is_the_offending_sentence() -> None:
    text = "您好，欢迎咨询。这款产品保本保息！如有疑问请联系我们。"
    (violation,) = check(text, require_disclosures=False).violations
    assert violation.span == "这款产品保本保息！"


def test_english_words_inside_chinese_text_are_matched() -> None:
    # Unicode \b treats CJK as word characters; the rules compile with ASCII word semantics.
    assert "guarantee" in claims("这款是risk-free的产品。")
    assert "exaggeration" in claims("它是最safest的？不，我是说它是the safest产品。")


def test_full_width_and_case_do_not_matter() -> None:
    assert "certain_return" in claims("肯定能拿到４％。")
    assert "guarantee" in claims("It is RISK-FREE.")


# ------------------------------------------------------------------ disclosures


def test_wealth_mention_requires_risk_disclosure_in_text_language() -> None:
    zh = check("我们有多款理财产品。")
    assert not zh.ok
    assert [v.rule for v in zh.violations] == ["missing_risk_disclosure"]
    assert zh.violations[0].span == "理财" and not zh.violations[0].critical
    assert zh.required_disclosures == ["理财非存款、产品有风险、投资须谨慎。"]
    en = check("We offer several wealth management products.")
    assert en.required_disclosures == [
        "Wealth management products are not deposits. Investing involves risk; invest prudently."
    ]


def test_performance_mention_requires_past_performance_disclaimer() -> None:
    result = check("稳享30天持有期近一年年化收益率3.1%。", products=CATALOGUE, client_risk_level="C3")
    assert [v.rule for v in result.violations] == [
        "missing_risk_disclosure",
        "missing_performance_disclaimer",
    ]
    disclaimer = "理财产品过往业绩不代表其未来表现，不等于理财产品实际收益，投资须谨慎。"
    assert result.required_disclosures[1] == disclaimer


@pytest.mark.parametrize(
    "text",
    [
        "稳享30天持有期近一年年化收益率3.1%。",
        "Steady 30-Day returned 3.1% last year.",
        "我们的基金种类很多。",
        "Our funds are diversified.",
    ],
)
def test_appending_required_disclosures_makes_text_pass(text: str) -> None:
    first = check(text, products=CATALOGUE, client_risk_level="C3")
    assert not first.ok and first.required_disclosures
    fixed = text + " " + " ".join(first.required_disclosures)
    assert check(fixed, products=CATALOGUE, client_risk_level="C3") == GuardResult(
        ok=True, violations=[], required_disclosures=[]
    )


def test_close_variants_of_disclosures_are_accepted() -> None:
    text = (
        "本理财产品年化收益率曾达3%。理财产品不是存款，投资有风险，投资需谨慎。"
        "过往业绩不代表未来表现，不等于产品实际收益。"
    )
    assert check(text).ok


def test_deposits_and_small_talk_need_no_disclosure() -> None:
    assert disclosures_for("大额存单2025第3期起存20万元。", products=CATALOGUE) == []
    assert disclosures_for("您好，有什么可以帮您？") == []
    assert disclosures_for("我是您的理财经理小王。") == []


def test_disclosure_language_can_be_forced() -> None:
    assert disclosures_for("理财", language="en")[0].startswith("Wealth management products are not deposits")


def test_require_disclosures_false_skips_them() -> None:
    assert check("我们有多款理财产品。", require_disclosures=False).ok


# ------------------------------------------------------------------ suitability


@pytest.mark.parametrize(
    ("text", "client", "expected"),
    [
        ("我推荐您购买稳进成长混合。", "C2", {"suitability"}),
        ("I recommend Growth Plus Mixed.", "C3", {"suitability"}),
        ("您不妨买点GR88。", "C3", {"suitability"}),
        ("我推荐您购买稳进成长混合。", "C4", set()),
        ("我推荐您购买稳进成长混合。", "成长型", set()),
        ("推荐您看看稳享30天持有期。", "C2", set()),
        ("推荐您看看稳享30天持有期。", None, {"risk_level_unknown"}),
        ("稳进成长混合风险等级为R4，不适合您，不建议购买。", "C2", set()),
        ("Growth Plus Mixed is above your level, so I would not recommend it.", "C2", set()),
        ("稳进成长混合不适合您，建议您考虑稳享30天持有期。", "C2", set()),
        ("稳进成长混合是一款R4产品。", "C1", set()),  # mentioned, not recommended
        ("我推荐WM300。", "C1", set()),  # a different code
        ("建议您先完成风险测评。", None, set()),  # no product
    ],
)
def test_suitability(text: str, client: str | None, expected: set[str]) -> None:
    assert claims(text, products=CATALOGUE, client_risk_level=client) == expected


def test_suitability_is_critical_and_quotes_the_sentence() -> None:
    text = "您好。我推荐您购买稳进成长混合。"
    (violation,) = check(text, products=CATALOGUE, client_risk_level="C1", require_disclosures=False).violations
    assert violation.critical and violation.span == "我推荐您购买稳进成长混合。"


def test_recommendation_list_after_colon() -> None:
    text = "给您推荐以下产品：\n1. 稳享30天持有期\n2. 稳进成长混合"
    assert claims(text, products=CATALOGUE, client_risk_level="C2") == {"suitability"}


@pytest.mark.parametrize("level", ["C6", "high", "R3", ""])
def test_malformed_client_level_is_a_caller_error(level: str) -> None:
    with pytest.raises(ValueError, match="client_risk_level"):
        check("您好", client_risk_level=level)


def test_product_risk_level_is_validated() -> None:
    with pytest.raises(ValueError):
        ProductRef(code="X", name="X", risk_level="R9")


# ------------------------------------------------------------------ language, surface, rules file


@pytest.mark.parametrize(
    ("text", "wording"),
    [
        ("稳享理财 3%", "理财非存款、产品有风险、投资须谨慎。"),
        ("Steady 30-Day 稳享理财", "理财非存款、产品有风险、投资须谨慎。"),  # any Chinese: judged in Chinese
        ("Steady, 3%", "Wealth management products are not deposits."),
        ("9012 ３%", "Wealth management products are not deposits."),  # no words at all: English
    ],
)
def test_disclosures_come_in_the_language_the_text_is_written_in(text: str, wording: str) -> None:
    product = ProductRef(code="9012", name="稳享理财", name_en="Steady", risk_level="R2")
    (disclosure,) = disclosures_for(text, products=[product])
    assert disclosure.startswith(wording)


def test_public_surface_is_small() -> None:
    assert sorted(compliance.__all__) == sorted(
        [
            "GuardResult",
            "ProductRef",
            "Recommended",
            "Violation",
            "check",
            "disclosures_for",
            "recommended",
            "stated_level",
        ]
    )


def test_empty_text_is_ok() -> None:
    assert check("").ok


def test_rules_load_once() -> None:
    assert load_rules() is load_rules()
    assert RULES_PATH.name == "rules.yml"


def test_bad_regex_in_rules_file_fails_loudly() -> None:
    with pytest.raises(RulesFileError, match="bad regex"):
        parse_rules({"context": {"adjacent_negation": "(unclosed"}})
    with pytest.raises(RulesFileError, match="missing or malformed"):
        parse_rules({})


# ------------------------------------------------------------------ labelled set


def test_labelled_set_shape() -> None:
    _, items = load_labelled(LABELLED)
    compliant = [i for i in items if not i["violation"]]
    assert len(items) >= 170
    assert len(compliant) / len(items) >= 0.40
    assert sum(1 for i in compliant if i.get("tricky")) >= 40
    assert any(not i["violation"] and detect_language(i["text"]) == "en" for i in items)


def test_labelled_set_meets_the_product_bar() -> None:
    result = evaluate(LABELLED)
    print(
        f"\nguard on {result['items']} labelled items: recall={result['recall']:.3f} "
        f"fpr={result['fpr']:.3f} precision={result['precision']:.3f} "
        f"(tp={result['tp']} fn={result['fn']} fp={result['fp']} tn={result['tn']})"
    )
    for split in ("dev", "holdout"):
        part = evaluate(LABELLED, split=split)
        print(f"  {split}: recall={part['recall']:.3f} fpr={part['fpr']:.3f} n={part['items']}")
    dev = evaluate(LABELLED, split="dev")
    for miss in dev["misses"] + dev["false_positives"]:  # held-out items are never listed
        print("  wrong (dev):", miss)
    assert result["recall"] >= 0.97
    assert result["fpr"] <= 0.05
