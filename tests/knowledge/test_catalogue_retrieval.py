"""Catalogue-aware retrieval on a bank whose products the NLU data has never seen (云杉银行, invented here)."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from bot.knowledge.models import Retrieval
from bot.knowledge.service import KnowledgeService
from tests.knowledge.conftest import REPO, TODAY, ServiceFactory, _doc, approval


def _retrieve(service: KnowledgeService, question: str) -> Retrieval:
    return service.retrieve(question, language="zh", channel="web")


@pytest.fixture
def yunshan(tmp_path: Path, make_service: ServiceFactory) -> KnowledgeService:
    folder = tmp_path / "yunshan"
    folder.mkdir()
    (folder / "products.yml").write_text(
        textwrap.dedent(
            f"""\
            - code: YS001
              name: 云杉银行岚山宝现金管理类理财产品
              aliases: [岚山宝, 岚山]
              type: wealth_management
              risk_level: R1
              min_amount: 1
              fees: {{管理费: "0.10%/年"}}
              liquidity: 每个交易日开放，赎回资金T+1个交易日到账。
              description: 岚山宝投资于存款和同业存单等高流动性资产，不保本。
              status: on_sale
              {approval(TODAY)}
              valid_until: 2099-01-01
            - code: YS002
              name: 云杉银行青屿一年定开理财产品
              aliases: [青屿]
              type: wealth_management
              risk_level: R2
              min_amount: 10000
              term_days: 365
              description: 青屿每年开放一次申购赎回，主要投资债券。
              status: suspended
              {approval(TODAY)}
              valid_until: 2099-01-01
            """
        ),
        encoding="utf-8",
    )
    common = f"type: faq\nlanguage: zh\n{approval(TODAY)}\nvalid_until: 2099-01-01\nchannels: [web]"
    _doc(
        folder,
        "faq-redeem.md",
        f"id: faq-redeem\ntitle: 理财产品怎么赎回？\n{common}\nproducts: []",
        "在手机银行“我的理财”选择产品，点击赎回并确认。持有期产品需持有期满后才能赎回。",
    )
    _doc(
        folder,
        "faq-fees.md",
        f"id: faq-fees\ntitle: 理财产品收哪些费用？\n{common}\nproducts: []",
        "理财产品可能收取管理费、托管费和销售服务费，费率以产品说明书为准。",
    )
    _doc(
        folder,
        "prod-lanshan.md",
        f"id: prod-lanshan\ntitle: 岚山宝产品介绍\n{common}\nproducts: [YS001]",
        "岚山宝是一款现金管理类理财产品，1元起购，适合管理日常零钱。",
    )
    service = make_service()
    service.ingest(folder, progress=False)
    return service


def test_the_catalogue_is_unknown_to_the_nlu_data() -> None:
    nlu = "".join(p.read_text(encoding="utf-8") for p in (REPO / "bot" / "rasa_project").rglob("*.yml"))
    assert "岚山" not in nlu and "青屿" not in nlu


def test_a_question_naming_a_product_ranks_its_sources_first(yunshan: KnowledgeService) -> None:
    retrieval = _retrieve(yunshan, "岚山宝怎么赎回？")  # a generic redemption FAQ exists too
    assert retrieval.ranked[0].id in {"YS001", "prod-lanshan"} and retrieval.ranked[0].about_named
    assert [p.code for p in retrieval.products] == ["YS001"]
    assert retrieval.answerable and retrieval.hits[0].id in {"YS001", "prod-lanshan"}


def test_an_alias_names_the_product(yunshan: KnowledgeService) -> None:
    retrieval = _retrieve(yunshan, "岚山的管理费是多少？")
    assert retrieval.ranked[0].id == "YS001" and "0.10%/年" in retrieval.ranked[0].text


def test_suspended_products_stay_retrievable(yunshan: KnowledgeService) -> None:
    retrieval = _retrieve(yunshan, "青屿现在还能买吗？")
    assert retrieval.ranked[0].id == "YS002" and retrieval.ranked[0].status == "suspended"
    assert [p.status for p in retrieval.products] == ["suspended"]  # the composer says it is not purchasable


def test_two_named_products_both_come_first(yunshan: KnowledgeService) -> None:
    retrieval = _retrieve(yunshan, "岚山宝和青屿有什么区别？")
    assert {"YS001", "YS002"} <= {h.id for h in retrieval.ranked[:3]}
    assert [p.code for p in retrieval.products] == ["YS001", "YS002"]


def test_a_question_about_nothing_named_is_not_tiered(yunshan: KnowledgeService) -> None:
    retrieval = _retrieve(yunshan, "理财产品收哪些费用？")
    assert retrieval.ranked[0].id == "faq-fees" and not retrieval.ranked[0].about_named
    assert retrieval.products == []


def test_an_ordinary_word_does_not_name_a_product(tmp_path: Path, make_service: ServiceFactory) -> None:
    """个人养老金账户 is about the pension account, not about 养老基金 typed short (养老金 is a word)."""
    folder = tmp_path / "pension"
    folder.mkdir()
    (folder / "products.yml").write_text(
        textwrap.dedent(
            f"""\
            - code: PN45
              name: 云杉养老目标日期2045三年持有期混合型基金
              aliases: [养老2045, 养老基金]
              type: mutual_fund
              risk_level: R3
              description: 养老2045是目标日期型养老基金，每笔份额须持有满三年。
              status: on_sale
              {approval(TODAY)}
              valid_until: 2099-01-01
            """
        ),
        encoding="utf-8",
    )
    common = f"type: faq\nlanguage: zh\n{approval(TODAY)}\nvalid_until: 2099-01-01\nchannels: [web]"
    _doc(
        folder,
        "faq-pension-account.md",
        f"id: faq-pension-account\ntitle: 个人养老金账户每年能存多少？\n{common}\nproducts: []",
        "个人养老金账户每年最多可以存12000元，存入的钱可以按规定税前扣除。",
    )
    service = make_service()
    service.ingest(folder, progress=False)
    assert _retrieve(service, "个人养老金账户一年最多能存多少").products == []
    assert [p.code for p in _retrieve(service, "养老基金要拿几年").products] == ["PN45"]
