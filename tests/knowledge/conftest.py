"""Knowledge-base fixtures: a small corpus written to a temp folder, and services built on it.

Dates are relative to a `today` the service is given, so validity rules are tested exactly.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest

from bot.core.audit import AuditSink, NullAuditSink
from bot.knowledge.embeddings import Embedder, HashingEmbedder
from bot.knowledge.generative import PromptSet
from bot.knowledge.lexical import Tokenizer
from bot.knowledge.llm import ChatModel
from bot.knowledge.service import KnowledgeService
from bot.knowledge.store import ChromaStore
from bot.settings import KnowledgeSettings
from tests.knowledge import fake_openai
from tests.knowledge.fake_openai import FakeOpenAI

TODAY = date(2026, 11, 24)
REPO = Path(__file__).resolve().parents[2]


def _doc(folder: Path, name: str, front: str, body: str) -> None:
    (folder / "docs").mkdir(parents=True, exist_ok=True)
    text = "---\n" + textwrap.dedent(front).strip() + "\n---\n" + textwrap.dedent(body).strip() + "\n"
    (folder / "docs" / name).write_text(text, encoding="utf-8")


def approval(today: date, days_ago: int = 30) -> str:
    return f"approval: {{id: CMP-1, approver: 合规部 王敏, approved_at: {today - timedelta(days=days_ago)}}}"


def write_corpus(folder: Path, today: date = TODAY) -> Path:
    """Products and documents covering every rule: drafts, expiry, channels, audience, languages."""
    start, end = today - timedelta(days=20), today + timedelta(days=365)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "products.yml").write_text(
        textwrap.dedent(
            f"""\
            - code: WM100
              name: 测试银行稳享90天持有期理财产品
              name_en: Test Bank Steady 90-Day Holding Product
              type: wealth_management
              risk_level: R2
              currency: CNY
              min_amount: 1000
              term_days: 90
              benchmark: "业绩比较基准2.30%-3.00%（年化），不是预期收益率。"
              fees: {{申购费: 0, 赎回费: 0, 管理费: "0.20%/年"}}
              liquidity: 每笔份额持有满90天后可赎回，赎回资金T+1个交易日到账。
              description: 稳享是一款90天持有期的固定收益类理财产品，主要投资于债券和同业存单，不保本。
              status: on_sale
              channels: [web, wecom, voice]
              approval: {{id: CMP-P1, approver: 合规部 王敏, approved_at: {start}, valid_until: {end}}}
            - code: WM200
              name: 测试银行远航三年封闭式理财产品
              name_en: Test Bank Voyager Three-Year Closed-End Product
              type: wealth_management
              risk_level: R3
              min_amount: 10000
              term_days: 1095
              description: 远航是一款三年封闭式理财产品，募集期已结束，封闭期内不能赎回。
              status: closed
              channels: [web, wecom]
              approval: {{id: CMP-P2, approver: 合规部 王敏, approved_at: {start}}}
              valid_until: {end}
            - code: WM300
              name: 测试银行过期理财产品
              type: wealth_management
              risk_level: R2
              description: 这款产品的资料已经过期。
              status: on_sale
              approval: {{id: CMP-P3, approver: 合规部 王敏, approved_at: {start - timedelta(days=400)}}}
              valid_until: {today - timedelta(days=1)}
            - code: BAD1
              name: 缺少字段的产品
              type: magic_beans
              risk_level: R9
              status: on_sale
            """
        ),
        encoding="utf-8",
    )
    common = f"{approval(today)}\nvalid_from: {start}\nvalid_until: {end}"
    _doc(
        folder,
        "faq-redeem-zh.md",
        f"id: faq-redeem-zh\ntitle: 理财产品怎么赎回？\ntype: faq\nlanguage: zh\n{common}\n"
        "channels: [web, wecom, voice]\naudience: [all]\nproducts: [WM100]\ntags: [赎回, 卖出]",
        """
        在手机银行打开“我的理财”，选中产品后点“赎回”，输入份额并确认即可。持有期产品要持有满约定天数后才能赎回。
        赎回资金一般T+1个交易日到账。

        > 风险提示：理财非存款、产品有风险、投资须谨慎。
        """,
    )
    _doc(
        folder,
        "faq-redeem-en.md",
        f"id: faq-redeem-en\ntitle: How do I redeem a wealth product?\ntype: faq\nlanguage: en\n{common}\n"
        "channels: [web, wecom, voice]\naudience: [all]\nproducts: [WM100]\ntags: [redemption, sell]",
        """
        Open "My wealth" in the mobile app, choose the product, tap "Redeem", enter the units and confirm.
        Holding-period products can only be redeemed after the holding period. The money usually arrives on T+1.
        """,
    )
    _doc(
        folder,
        "faq-benchmark-zh.md",
        f"id: faq-benchmark-zh\ntitle: 业绩比较基准是预期收益吗？\ntype: faq\nlanguage: zh\n{common}\n"
        "channels: [web, wecom, voice]\naudience: [all]\nproducts: []\ntags: [业绩比较基准, 收益]",
        """
        不是。业绩比较基准是管理人给产品设定的参照标准，用来衡量产品的投资表现，不是预期收益率，也不代表产品未来的实际收益。
        净值型理财产品的收益随市场波动。
        """,
    )
    _doc(
        folder,
        "script-call-zh.md",
        f"id: script-call-zh\ntitle: 外呼开场白\ntype: script\nlanguage: zh\n{common}\n"
        "channels: [voice]\naudience: [all]\nproducts: []\ntags: [外呼, 开场白]",
        "您好，这里是测试银行的AI智能助手，本次通话将全程录音。请问现在方便说一分钟吗？",
    )
    _doc(
        folder,
        "mv-equity-zh.md",
        f"id: mv-equity-zh\ntitle: 四季度A股市场观察\ntype: market_view\nlanguage: zh\n{common}\n"
        "channels: [web, wecom]\naudience: [C3, C4, C5]\nproducts: []\ntags: [A股, 市场观点]",
        "A股估值处于历史中间区域，权益类产品波动大，适合风险承受能力较高、能长期持有的投资者分批投入。",
    )
    _doc(
        folder,
        "faq-draft-zh.md",
        f"id: faq-draft-zh\ntitle: 青鸾计划说明（草稿）\ntype: faq\nlanguage: zh\nvalid_from: {start}\n"
        f"valid_until: {end}\nchannels: [web]\naudience: [all]",
        "青鸾计划是一个还在设计中的草稿方案，青鸾计划的条款都没有定稿。",
    )
    _doc(
        folder,
        "faq-expired-zh.md",
        f"id: faq-expired-zh\ntitle: 琥珀季活动说明\ntype: faq\nlanguage: zh\n{approval(today, 400)}\n"
        f"valid_from: {today - timedelta(days=300)}\nvalid_until: {today - timedelta(days=1)}\nchannels: [web]",
        "琥珀季活动已经结束，琥珀季的优惠不再提供。",
    )
    _doc(
        folder,
        "faq-future-zh.md",
        f"id: faq-future-zh\ntitle: 银杏航线活动说明\ntype: faq\nlanguage: zh\n{approval(today)}\n"
        f"valid_from: {today + timedelta(days=10)}\nvalid_until: {end}\nchannels: [web]",
        "银杏航线是明年才开始的活动，银杏航线的细则尚未生效。",
    )
    _doc(
        folder,
        "faq-soon-expiring-zh.md",
        f"id: faq-soon-expiring-zh\ntitle: 丹枫季活动说明\ntype: faq\nlanguage: zh\n{approval(today)}\n"
        f"valid_from: {start}\nvalid_until: {today + timedelta(days=2)}\nchannels: [web]",
        "丹枫季活动期间，丹枫季专属客户可以领取活动礼品。",
    )
    _doc(folder, "broken.md", "id: broken\ntitle: 坏文件\ntype: rumour\nlanguage: fr", "正文。")
    (folder / "docs" / "no-front-matter.md").write_text("只有正文，没有前置元数据。\n", encoding="utf-8")
    return folder


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    return write_corpus(tmp_path / "corpus")


@pytest.fixture
def knowledge_settings() -> KnowledgeSettings:
    return KnowledgeSettings(collection="test_content", refresh_s=0.0)


ServiceFactory = Callable[..., KnowledgeService]


@pytest.fixture
def make_service(tmp_path: Path, knowledge_settings: KnowledgeSettings) -> Iterator[ServiceFactory]:
    """Services on an embedded Chroma in tmp_path, with a controllable clock."""
    built: list[KnowledgeService] = []

    def build(
        *,
        today: date = TODAY,
        chat: ChatModel | None = None,
        audit: AuditSink | None = None,
        store_dir: Path | None = None,
        knowledge: KnowledgeSettings | None = None,
        clock: Callable[[], date] | None = None,
        embedder: Callable[[Tokenizer], Embedder] | None = None,
        open_store: Callable[[], ChromaStore] | None = None,
    ) -> KnowledgeService:
        kn = knowledge or knowledge_settings
        path = store_dir or tmp_path / "chroma"
        service = KnowledgeService(
            knowledge=kn,
            open_store=open_store or (lambda: ChromaStore(mode="embedded", collection=kn.collection, path=path)),
            make_embedder=embedder or (lambda tokenizer: HashingEmbedder(tokenizer, dimensions=256)),
            chat=chat,
            prompts=PromptSet(REPO / "prompts", "v1") if chat is not None else None,
            audit=audit or NullAuditSink(),
            today=clock or (lambda: today),
        )
        built.append(service)
        return service

    yield build


@pytest.fixture
def service(make_service: ServiceFactory, corpus: Path) -> KnowledgeService:
    """A service with the test corpus ingested."""
    svc = make_service()
    svc.ingest(corpus, progress=False)
    return svc


@pytest.fixture
def openai_server() -> Iterator[FakeOpenAI]:
    """A local OpenAI-compatible server on a free port, stopped after the test."""
    with fake_openai.running() as fake:
        yield fake
