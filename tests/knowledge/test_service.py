"""Retrieval rules and extractive answers through KnowledgeService (real Chroma in a temp dir)."""

from __future__ import annotations

import asyncio
import threading
from datetime import timedelta
from pathlib import Path
from typing import ClassVar

import numpy as np

from bot.errors import KnowledgeUnavailable
from bot.knowledge.service import KnowledgeService
from bot.knowledge.store import ChromaStore
from tests.knowledge.conftest import TODAY, ServiceFactory

ALL_IDS_QUERY = "理财 赎回 草稿 青鸾计划 琥珀季 银杏航线 丹枫季 外呼 开场白 A股 市场观点 业绩比较基准"


def _ids(service: KnowledgeService, query: str, **kwargs: object) -> set[str]:
    return {h.id for h in service.search_sync(query, k=20, **kwargs)}  # type: ignore[arg-type]


def test_drafts_expired_and_future_content_are_never_returned(service: KnowledgeService) -> None:
    for query in ("青鸾计划是什么", "琥珀季活动", "银杏航线", ALL_IDS_QUERY):
        assert not _ids(service, query) & {"faq-draft-zh", "faq-expired-zh", "faq-future-zh", "WM300"}


def test_content_expired_since_ingestion_is_not_used(make_service: ServiceFactory, corpus: Path) -> None:
    day = [TODAY]
    service = make_service(clock=lambda: day[0])
    service.ingest(corpus, progress=False)
    assert "faq-soon-expiring-zh" in _ids(service, "丹枫季活动礼品")
    day[0] = TODAY + timedelta(days=3)
    assert "faq-soon-expiring-zh" not in _ids(service, "丹枫季活动礼品")
    answer = asyncio.run(service.answer("丹枫季活动有什么礼品？", language="zh", channel="web"))
    assert "faq-soon-expiring-zh" not in {c.id for c in answer.citations}


def test_channel_filter(service: KnowledgeService) -> None:
    assert "script-call-zh" in _ids(service, "外呼开场白", channel="voice")
    assert "script-call-zh" not in _ids(service, "外呼开场白", channel="web")
    assert "mv-equity-zh" not in _ids(service, "A股市场观察", channel="voice")
    assert "WM200" not in _ids(service, "远航三年封闭式", channel="voice")
    # An unknown channel only gets content allowed everywhere.
    assert "mv-equity-zh" not in _ids(service, "A股市场观察", channel="sms")


def test_audience_filter(service: KnowledgeService) -> None:
    assert "mv-equity-zh" not in _ids(service, "A股市场观察", audience="C1")
    assert "mv-equity-zh" in _ids(service, "A股市场观察", audience="C4")
    assert "mv-equity-zh" in _ids(service, "A股市场观察")  # unknown level: no audience filter


def test_hits_are_distinct_sources_with_bounded_relevance(service: KnowledgeService) -> None:
    hits = service.search_sync("稳享理财的管理费是多少", k=5)
    assert len({h.id for h in hits}) == len(hits)
    assert hits[0].id == "WM100" and "管理费" in hits[0].text
    assert all(0 <= h.relevance <= 1 and 0 <= h.coverage <= 1 for h in hits)
    assert [h.rank for h in hits] == list(range(1, len(hits) + 1))
    assert hits[0].relevance >= service.relevance_threshold


def test_bm25_and_vector_modes(service: KnowledgeService) -> None:
    for mode in ("bm25", "vector"):
        hits = service.search_sync("业绩比较基准是预期收益吗", k=3, mode=mode)  # type: ignore[arg-type]
        assert hits[0].id == "faq-benchmark-zh"
        assert (hits[0].bm25_rank is None) == (mode == "vector")


def test_catalogue_keeps_status_and_drops_expired(service: KnowledgeService) -> None:
    products = {p.code: p for p in service.products()}
    assert set(products) == {"WM100", "WM200"}
    assert products["WM200"].status == "closed"


async def test_extractive_answer_with_citations_and_disclosures(service: KnowledgeService) -> None:
    answer = await service.answer("稳享的管理费是多少？", language="zh", channel="web")
    assert answer.grounded and answer.mode == "extractive"
    assert answer.citations[0].model_dump() == {"id": "WM100", "title": "测试银行稳享90天持有期理财产品"}
    assert "0.20%/年" in answer.answer
    assert "理财非存款、产品有风险、投资须谨慎。" in answer.disclosures
    assert answer.answer.endswith(" ".join(answer.disclosures))


async def test_performance_questions_carry_the_past_performance_disclaimer(service: KnowledgeService) -> None:
    answer = await service.answer("业绩比较基准是预期收益吗？", language="zh", channel="web")
    assert answer.citations[0].id == "faq-benchmark-zh"
    assert any("过往业绩不代表其未来表现" in d for d in answer.disclosures)


async def test_english_question_gets_english_content(service: KnowledgeService) -> None:
    answer = await service.answer("How do I redeem a wealth product?", language="en", channel="web")
    assert answer.citations[0].id == "faq-redeem-en"
    assert answer.answer.startswith("From “How do I redeem a wealth product?”")
    assert "Wealth management products are not deposits" in answer.answer


async def test_voice_answers_are_short_and_use_voice_content(service: KnowledgeService) -> None:
    answer = await service.answer("外呼开场白怎么说", language="zh", channel="voice")
    assert answer.citations[0].id == "script-call-zh"
    assert not answer.answer.startswith("根据")
    long_answer = await service.answer("稳享理财怎么赎回，多久到账？", language="zh", channel="voice")
    body = long_answer.answer.split("\n")[0]
    assert len(body) <= 160


async def test_closed_products_are_described_not_recommended(service: KnowledgeService) -> None:
    answer = await service.answer("远航三年封闭式理财产品能赎回吗？", language="zh", channel="web")
    assert answer.citations[0].id == "WM200"
    assert "已停售" in answer.answer and "不构成推荐" in answer.answer


async def test_out_of_scope_is_declined_with_a_human_offered(service: KnowledgeService) -> None:
    for question, language in (("红烧肉怎么做才不腻？", "zh"), ("Who won the NBA finals?", "en")):
        answer = await service.answer(question, language=language, channel="web")  # type: ignore[arg-type]
        assert not answer.grounded and answer.citations == [] and answer.disclosures == []
        assert ("人工理财顾问" in answer.answer) if language == "zh" else ("human advisor" in answer.answer)


async def test_empty_index_declines(make_service: ServiceFactory) -> None:
    answer = await make_service().answer("理财怎么赎回？", language="zh", channel="web")
    assert not answer.grounded


class RecordingStore(ChromaStore):
    """The real store, recording which thread each read runs on (the index version is read before every
    question; a large index is searched in Chroma, a small one in memory)."""

    threads: ClassVar[list[str]] = []

    def query(self, vector: list[float] | np.ndarray, n: int, flt: object = None) -> list[tuple[str, float]]:  # type: ignore[override]
        RecordingStore.threads.append(threading.current_thread().name)
        return super().query(vector, n, flt)  # type: ignore[arg-type]

    def version(self) -> str:
        RecordingStore.threads.append(threading.current_thread().name)
        return super().version()


async def test_answer_does_not_block_the_event_loop(make_service: ServiceFactory, corpus: Path, tmp_path: Path) -> None:
    service = make_service(
        open_store=lambda: RecordingStore(mode="embedded", collection="test_content", path=tmp_path / "rec")
    )
    await asyncio.to_thread(service.ingest, corpus, progress=False)
    RecordingStore.threads.clear()
    await service.answer("理财产品怎么赎回？", language="zh", channel="web")
    assert RecordingStore.threads and threading.main_thread().name not in RecordingStore.threads


async def test_store_failure_declines_instead_of_raising(make_service: ServiceFactory) -> None:
    def broken() -> ChromaStore:
        raise KnowledgeUnavailable("chroma server down")

    service = make_service(open_store=broken)
    answer = await service.answer("理财怎么赎回？", language="zh", channel="web")
    assert not answer.grounded and "暂时无法访问" in answer.answer
