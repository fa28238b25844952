"""The catalogue finds products by every name a client or advisor uses, and only those."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.catalogue import Catalogue, CatalogueProduct, is_wealth_type
from bot.catalogue.matching import short_name, spoken_form, spoken_number

REPO = Path(__file__).resolve().parents[2]

JIXIANG = CatalogueProduct(
    code="WM002",
    name="示例银行季享90天持有期固收理财产品",
    name_en="Demo Bank Jixiang 90-Day Holding Fixed-Income Product",
    aliases=("季享", "Jixiang"),
    type="wealth_management",
    risk_level="R2",
)
CSI300 = CatalogueProduct(
    code="EF001", name="示例沪深300指数证券投资基金A", aliases=("沪深300",), type="equity_fund", risk_level="R4"
)
BOND = CatalogueProduct(code="TB001", name="澄江银行储蓄国债2026年第5期", type="treasury_bond", risk_level="R1")
WM30 = CatalogueProduct(code="WM30", name="稳享30天", risk_level="R2")
CATALOGUE = Catalogue([JIXIANG, CSI300, BOND, WM30])


@pytest.mark.parametrize(
    ("text", "codes"),
    [
        ("季享90天的业绩比较基准是多少", ["WM002"]),
        ("示例银行季享90天持有期固收理财产品怎么赎回", ["WM002"]),
        ("Is JIXIANG a deposit?", ["WM002"]),
        ("我想买沪深300那个，或者季享", ["EF001", "WM002"]),
        ("ＷＭ３０ 还能买吗", ["WM30"]),  # full-width input
        ("WM300 是什么", []),  # an ASCII code never matches inside a longer code
        ("今天天气不错", []),
    ],
)
def test_finds_products_by_any_name(text: str, codes: list[str]) -> None:
    assert [p.code for p in CATALOGUE.named(text)] == codes


def test_mentions_point_at_the_words_in_the_original_text() -> None:
    text = "您好，季享90天适合您"
    [mention] = CATALOGUE.find(text)
    assert text[mention.start : mention.end] == mention.surface == "季享90天"


def test_short_name_strips_any_bank_prefix_and_legal_type_words() -> None:
    assert short_name("示例银行季享90天持有期固收理财产品") == "季享90天"
    assert short_name("澄江银行锦程一年定开固收增强理财产品") == "锦程一年"
    assert short_name("稳享30天") is None  # nothing to strip: the name itself is the short name


def test_vocabulary_feeds_a_segmenter_with_chinese_names_only() -> None:
    words = CATALOGUE.vocabulary()
    assert "季享" in words and "季享90天" in words and "沪深300" in words
    assert "jixiang" not in words


def test_wealth_follows_the_type_unless_given() -> None:
    assert JIXIANG.is_wealth and not BOND.is_wealth
    assert CatalogueProduct(code="X", name="某存单", risk_level="R1", is_wealth=False).is_wealth is False
    assert is_wealth_type(None) and not is_wealth_type("deposit")


@pytest.mark.parametrize(
    ("text", "codes", "corrected"),
    [
        ("季想90天多少钱起购", ["WM002"], "季享90天多少钱起购"),  # a pinyin-IME homophone
        ("季90天多少钱起购", ["WM002"], "季享90天多少钱起购"),  # a character missed
        ("吉祥如意", [], "吉祥如意"),  # sounds like 季享, shares no character: an ordinary word
        ("季享90天的费用", ["WM002"], "季享90天的费用"),  # exact names stay as typed
    ],
)
def test_fuzzy_names_are_what_clients_type(text: str, codes: list[str], corrected: str) -> None:
    assert [p.code for p in CATALOGUE.named(text, fuzzy=True)] == codes
    assert CATALOGUE.corrected(text) == corrected
    assert CATALOGUE.named("季想90天多少钱起购") == []  # exact matching (guard, dialogue) is unchanged


def test_a_term_the_catalogue_lacks_is_another_product() -> None:
    assert CATALOGUE.unknown_variants("季享180天什么时候开卖") == ["季享180天"]
    assert CATALOGUE.unknown_variants("季享90天什么时候开卖") == []
    assert CATALOGUE.unknown_variants("季享三个月能取吗") == []  # a term unit the family does not use


@pytest.mark.parametrize(
    ("digits", "spoken"),
    [("300", "三百"), ("90", "九十"), ("180", "一百八十"), ("105", "一百零五"), ("10", "十"), ("2026", "二零二六")],
)
def test_numbers_are_read_as_chinese_speakers_say_them(digits: str, spoken: str) -> None:
    assert spoken_number(digits) == spoken


def test_a_name_with_a_number_is_found_when_the_number_is_said_in_words() -> None:
    # Voice transcripts and chat write 沪深三百 / 季享九十天 for 沪深300 / 季享90天.
    assert [p.code for p in CATALOGUE.named("我们那只沪深三百的指数基可以看看")] == ["EF001"]
    assert [p.code for p in CATALOGUE.named("季享九十天什么时候能赎回")] == ["WM002"]
    assert spoken_form("Jixiang 90-Day") is None  # English names keep their digits


def test_an_english_name_is_found_in_the_plural() -> None:
    bond = CatalogueProduct(
        code="TB001", name="示例储蓄国债", aliases=("savings bond",), type="treasury_bond", risk_level="R1"
    )
    catalogue = Catalogue([bond, WM30])
    assert [m.surface for m in catalogue.find("Can I still buy government savings bonds?")] == ["savings bonds"]
    assert catalogue.named("savings bondage") == [] and catalogue.named("WM30s") == []  # a code takes no plural


def test_an_ordinary_word_is_not_a_name_cut_short() -> None:
    """养老金 (a pension) is a word of its own, not 养老基金 typed with a character missed."""
    pension = CatalogueProduct(code="PN45", name="养老目标2045基金", aliases=("养老基金",), risk_level="R3")
    catalogue = Catalogue([pension, JIXIANG], ordinary={"养老金", "天气"}.__contains__)
    assert catalogue.named("个人养老金账户一年最多能存多少", fuzzy=True) == []
    assert [p.code for p in catalogue.named("季90天多少钱起购", fuzzy=True)] == ["WM002"]  # still a name cut short
    assert [p.code for p in Catalogue([pension]).named("个人养老金账户", fuzzy=True)] == ["PN45"]  # without the check


def test_names_are_in_the_same_order_whatever_the_hash_seed() -> None:
    """Calibration picks a product's names at random from a seeded generator: their order must not depend
    on Python's per-process string hashing, or the gate would differ from one ingestion to the next."""
    script = (
        "from bot.catalogue import Catalogue, CatalogueProduct\n"
        "p = CatalogueProduct(code='X1', name='示例银行甲乙丙丁理财', aliases=('甲乙', '丙丁', '戊己', 'AB', 'CD'),"
        " risk_level='R2')\n"
        "print(Catalogue([p]).names(p))\n"
    )
    outputs = {
        subprocess.run(
            [sys.executable, "-c", script],
            env={**os.environ, "PYTHONHASHSEED": str(seed)},
            capture_output=True,
            text=True,
            check=True,
            cwd=REPO,
        ).stdout
        for seed in range(4)
    }
    assert len(outputs) == 1, outputs
