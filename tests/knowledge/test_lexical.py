"""Tokens for Chinese and English, the thesaurus, and BM25 equal to rank-bm25's."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from rank_bm25 import BM25Okapi

from bot.knowledge.lexical import LexicalIndex, Tokenizer, stem
from bot.knowledge.models import Product
from bot.knowledge.snapshot import vocabulary


@pytest.fixture(scope="module")
def tokenizer() -> Tokenizer:
    return Tokenizer()


def test_stop_words_and_lone_characters_are_dropped(tokenizer: Tokenizer) -> None:
    assert tokenizer.tokens("朝夕怎么快速赎回，多久到账？") == ["朝夕", "快速", "赎回", "快速赎回", "到账"]
    assert tokenizer.tokens("How do I get the fees?") == ["费用"]


def test_thesaurus_maps_clients_words_to_the_contents_words(tokenizer: Tokenizer) -> None:
    assert "赎回" in tokenizer.tokens("在手机上怎么把理财卖掉")
    assert "赎回" in tokenizer.tokens("How do I cash out?")  # an English phrase meets Chinese content
    assert "申购费" in tokenizer.tokens("What's the front-end charge?")
    assert "国债" in tokenizer.tokens("government savings bonds")  # longest phrase wins over "savings"


def test_english_stemming_is_light_and_symmetric() -> None:
    assert [stem(w) for w in ("fees", "redeemed", "policies", "selling", "process", "anything")] == [
        "fee",
        "redeem",
        "policy",
        "sell",
        "process",
        "anything",
    ]


def test_finance_words_stay_whole(tokenizer: Tokenizer) -> None:
    assert "业绩比较基准" in tokenizer.tokens("业绩比较基准是什么")


def test_catalogue_names_join_the_user_dictionary(tokenizer: Tokenizer) -> None:
    """Product names come from the catalogue at ingestion (no static list, no NLU data)."""
    assert "岚山宝" not in tokenizer.tokens("岚山宝怎么赎回")
    catalogue = tokenizer.with_vocabulary(["岚山宝", "云杉银行岚山宝现金管理类理财产品"])
    assert "岚山宝" in catalogue.tokens("岚山宝怎么赎回")
    full = catalogue.tokens("云杉银行岚山宝现金管理类理财产品的费用")
    assert {"云杉银行岚山宝现金管理类理财产品", "岚山宝", "理财"} <= set(full)  # the name, and what is in it
    assert catalogue.fingerprint != tokenizer.fingerprint  # a new catalogue re-indexes
    assert tokenizer.with_vocabulary([]) is tokenizer


def test_vocabulary_is_the_catalogues_names_and_aliases() -> None:
    product = Product.model_validate(
        {
            "code": "YS001",
            "name": "云杉银行岚山宝现金管理类理财产品",
            "aliases": ["岚山", "Lanshan"],
            "type": "wealth_management",
            "risk_level": "R1",
            "description": "示例。",
            "status": "on_sale",
        }
    )
    words = vocabulary([product])
    assert {"岚山", "岚山宝", "云杉银行岚山宝现金管理类理财产品"} <= set(words) and "lanshan" not in words


def test_synonyms_are_data(tmp_path: Path) -> None:
    synonyms = tmp_path / "synonyms.txt"
    synonyms.write_text("# test\n起购金额, 门槛, 最低买多少\n", encoding="utf-8")
    tokens = Tokenizer(synonyms_file=synonyms).tokens("这款的门槛高吗")
    assert "起购金额" in tokens and "门槛" not in tokens


def test_general_chinese_frequency(tokenizer: Tokenizer) -> None:
    """What every text says (明天) is common; a specialised word (托管费) is not."""
    assert tokenizer.general_logp("明天") > tokenizer.general_logp("托管费")


def test_general_words_are_jiebas_own_not_ours(tokenizer: Tokenizer) -> None:
    """养老金 is a word of general Chinese; a product name cut short (季享90) or a domain word we add is not."""
    assert tokenizer.is_general_word("养老金") and tokenizer.is_general_word("存款")
    assert not tokenizer.is_general_word("季享90") and not tokenizer.is_general_word("pension")


def test_a_not_a_question_forms_are_stop_words(tokenizer: Tokenizer) -> None:
    """大不大, 贵不贵: the question form says nothing about the topic (like 是不是, already a stop word)."""
    assert tokenizer.tokens("R2的产品风险大不大") == ["r2", "产品", "风险"]
    assert "贵" not in "".join(tokenizer.tokens("这只基金贵不贵"))


def test_quantities_in_words(tokenizer: Tokenizer) -> None:
    for term in ("十天", "四点", "一百万", "一两个", "几年", "million"):
        assert tokenizer.is_quantity(term), term
    for term in ("季享", "一直", "大额存单", "r2", "7"):
        assert not tokenizer.is_quantity(term), term


def test_chinese_runs_feed_the_bigram_features(tokenizer: Tokenizer) -> None:
    assert tokenizer.analyze("赎回到账 and T+1").cjk_runs == ("赎回到账",)


def test_bm25_scores_match_rank_bm25() -> None:
    docs = [["赎回", "到账", "t+1"], ["管理费", "费用"], ["赎回", "赎回", "费用", "净值"], []]
    query = ["赎回", "费用", "不存在"]
    ours = LexicalIndex(docs).scores(query)
    theirs = BM25Okapi(docs).get_scores(query)
    assert np.allclose(ours, theirs)


def test_coverage_is_an_idf_weighted_share() -> None:
    index = LexicalIndex([["赎回", "到账"], ["赎回", "管理费"], ["净值"]])
    assert index.coverage(["赎回", "到账"], 0) == pytest.approx(1.0)
    assert index.coverage(["赎回", "到账"], 2) == 0.0
    partial = index.coverage(["赎回", "到账"], 1)
    assert 0 < partial < 0.5  # the common word matched, the rare one did not
    assert index.coverage(["到账", "火星"], 0) < 0.5  # an unseen word weighs the most
    assert index.coverage([], 0) == 0.0


def test_empty_index_scores_nothing() -> None:
    assert LexicalIndex([]).scores(["赎回"]).shape == (0,)
