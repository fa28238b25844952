"""Question-level signs that content cannot answer a question, whatever passage it matches best."""

from __future__ import annotations

import pytest

from bot.catalogue import Catalogue, CatalogueProduct, fold
from bot.knowledge.signals import SignalReader

PASSAGES = [
    "天天盈是澄江银行的现金管理类理财产品，工作日可以赎回，在手机银行购买。",
    "混合基金和债券基金的费用：申购费、赎回费、管理费，按年计提。",
    "大额存单20万元起存，提前支取按活期利率计息。",
]
CATALOGUE = Catalogue(
    [CatalogueProduct(code="TT1", name="澄江银行天天盈现金管理类理财产品", aliases=("天天盈",), risk_level="R1")]
)


def reader(passages: list[str] = PASSAGES, titles: tuple[str, ...] = ("赎回说明",)) -> SignalReader:
    folded = [fold(p) for p in passages]
    return SignalReader(CATALOGUE, fold("\n".join([*titles, *passages])), folded, titles)


@pytest.mark.parametrize(
    ("question", "fired"),
    [
        ("招商银行的朝朝宝收益怎么样", {"elsewhere", "unknown_name"}),
        ("工商银行的大额存单利率是多少", {"elsewhere"}),
        ("你们的金满盈理财收益高吗", {"unknown_name"}),
        ("房贷现在利率多少", {"absent_topic"}),
        ("帮我查下我卡里还剩多少钱", {"personal"}),
        ("我上个月的定投扣款成功了没有", {"personal"}),
        ("易方达的蓝筹精选最近怎么样", {"elsewhere"}),  # a fund house, not a bank
        ("What's the mortgage rate at HSBC?", {"elsewhere", "absent_topic"}),
        # and what must not fire
        ("天天盈怎么赎回", set()),  # our own product
        ("那只混合基金的管理费多少", set()),  # a generic name, not an unknown product
        ("在手机银行怎么买天天盈", set()),  # our bank's channel, not another bank
        ("往别家银行转钱要手续费吗", set()),  # "another bank" in general
        ("在哪能看到我买的理财赚了多少", set()),  # how to look it up: content may answer
        ("大额存单中途取出来利息怎么算", set()),
    ],
)
def test_signals(question: str, fired: set[str]) -> None:
    signals = reader().read(question)
    assert {name for name, on in vars(signals).items() if on} == fired


def test_a_topic_the_content_covers_is_not_absent() -> None:
    cards = ["信用卡还款日是账单日后第20天。", "信用卡最低还款额为消费金额的10%。"]
    assert reader().read("信用卡账单分期手续费怎么算").absent_topic
    assert not reader([*PASSAGES, *cards]).read("信用卡账单分期手续费怎么算").absent_topic
    # one passage mentioning a word in passing does not make a topic covered; a title does
    once = ["本行不提供贷款服务。"]
    assert reader([*PASSAGES, *once]).read("房贷利率多少").absent_topic
    assert not reader(PASSAGES, ("赎回说明", "个人住房贷款")).read("房贷利率多少").absent_topic


def test_ordinary_speech_before_a_product_word_is_not_a_name() -> None:
    """请问理财, 问下等级产品, 债券货币基金: what comes before 理财/基金/产品 ends in a common word, so it is
    no product's name (the calibration's own fillers used to make content questions look out of scope)."""
    from bot.knowledge.lexical import Tokenizer

    folded = [fold(p) for p in PASSAGES]
    text = fold("\n".join(PASSAGES))
    plain = SignalReader(CATALOGUE, text, folded, ("赎回说明",))
    aware = SignalReader(CATALOGUE, text, folded, ("赎回说明",), ordinary=Tokenizer().ends_in_common_word)
    for question in ("请问理财怎么赎回", "麻烦问下等级产品", "有债券货币基金吗"):
        assert not aware.read(question).unknown_name, question
    assert plain.read("麻烦问下等级产品").unknown_name  # the premise: without the check it fires
    assert aware.read("你们的金满盈理财收益高吗").unknown_name and aware.read("恒盛理财怎么样").unknown_name
