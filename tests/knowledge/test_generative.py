"""Generative answers against a local OpenAI-compatible server: good, non-compliant, slow, broken."""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from pydantic import SecretStr

from bot.actions import ACTION_SECRET_HEADER
from bot.app import create_app
from bot.core.audit import JsonlAuditSink
from bot.knowledge.generative import PromptSet, cite, sources_for
from bot.knowledge.llm import OpenAIChat
from bot.knowledge.models import Hit
from bot.knowledge.service import KnowledgeService
from bot.settings import LLMSettings, Settings, load_settings
from tests.knowledge.conftest import REPO, ServiceFactory
from tests.knowledge.fake_openai import FakeOpenAI, Reply
from tests.support.action_calls import call, run

QUESTION = "稳享理财怎么赎回，多久到账？"


@pytest.fixture
def audit_path(tmp_path: Path) -> Path:
    return tmp_path / "audit" / "compliance.jsonl"


@pytest.fixture
def generative(
    make_service: ServiceFactory, corpus: Path, openai_server: FakeOpenAI, audit_path: Path
) -> KnowledgeService:
    chat = OpenAIChat(model="test-model", base_url=openai_server.url, api_key="sk-test", timeout_s=0.8)
    service = make_service(chat=chat, audit=JsonlAuditSink(audit_path))
    service.ingest(corpus, progress=False)
    return service


async def test_good_reply_is_used_with_its_citations(generative: KnowledgeService, openai_server: FakeOpenAI) -> None:
    openai_server.reply(Reply("稳享每笔份额持有满90天后可以赎回[2]，赎回资金T+1个交易日到账[2][1]。"))
    answer = await generative.answer(QUESTION, language="zh", channel="web", conversation_id="web:u1")
    assert answer.mode == "generative" and answer.grounded
    # Sources as the prompt numbers them: the products the question names, then the evidence.
    hits = sources_for(generative.retrieve(QUESTION, language="zh", channel="web"))
    assert [c.id for c in answer.citations] == [hits[1].citation.id, hits[0].citation.id]  # renumbered
    assert answer.answer.startswith("稳享每笔份额持有满90天后可以赎回[1]，赎回资金T+1个交易日到账[1][2]。")
    assert "理财非存款、产品有风险、投资须谨慎。" in answer.disclosures
    request = openai_server.requests[0]
    assert request["path"] == "/v1/chat/completions" and request["auth"] == "Bearer sk-test"
    system, user = request["body"]["messages"]
    assert system["role"] == "system" and "NO_ANSWER" in system["content"] and "Simplified Chinese" in system["content"]
    assert user["role"] == "user" and QUESTION in user["content"] and f"[1] 《{hits[0].title}》" in user["content"]
    assert request["body"]["model"] == "test-model"


async def test_voice_answers_drop_the_markers(generative: KnowledgeService, openai_server: FakeOpenAI) -> None:
    openai_server.reply(Reply("持有满90天后可以赎回[1]。"))
    answer = await generative.answer(QUESTION, language="zh", channel="voice")
    assert answer.mode == "generative" and "[1]" not in answer.answer and answer.citations


async def test_non_compliant_reply_is_blocked_audited_and_replaced(
    generative: KnowledgeService, openai_server: FakeOpenAI, audit_path: Path
) -> None:
    bad = "稳享保本保收益，闭眼买就行[1]。"
    openai_server.reply(Reply(bad))
    answer = await generative.answer(QUESTION, language="zh", channel="web", conversation_id="web:u2")
    assert answer.mode == "extractive" and answer.grounded and answer.citations
    assert "保本保收益" not in answer.answer
    lines = (await asyncio.to_thread(audit_path.read_text, encoding="utf-8")).splitlines()
    entries = [json.loads(line) for line in lines]
    assert entries and {e["conversation_id"] for e in entries} == {"web:u2"}
    assert "guarantee" in {e["rule"] for e in entries}
    assert {e["sha256"] for e in entries} == {hashlib.sha256(bad.encode()).hexdigest()}


async def test_timeout_falls_back_within_the_turn(generative: KnowledgeService, openai_server: FakeOpenAI) -> None:
    openai_server.reply(Reply("太慢了[1]", delay_s=3.0))
    start = time.perf_counter()
    answer = await generative.answer(QUESTION, language="zh", channel="web")
    assert time.perf_counter() - start < 2.5
    assert answer.mode == "extractive" and answer.grounded


@pytest.mark.parametrize("reply", [Reply(status=500), Reply("随便说说，没有引用。"), Reply("NO_ANSWER"), Reply("[9]")])
async def test_errors_and_unusable_replies_fall_back(
    generative: KnowledgeService, openai_server: FakeOpenAI, reply: Reply
) -> None:
    openai_server.reply(reply)
    answer = await generative.answer(QUESTION, language="zh", channel="web")
    assert answer.mode == "extractive" and answer.grounded and answer.citations
    assert len(openai_server.requests) == 1  # no retries inside the turn's time budget


async def test_out_of_scope_never_reaches_the_model(generative: KnowledgeService, openai_server: FakeOpenAI) -> None:
    answer = await generative.answer("红烧肉怎么做才不腻？", language="zh", channel="web")
    assert not answer.grounded and openai_server.requests == []


async def test_from_settings_builds_the_generative_path(
    tmp_path: Path, corpus: Path, openai_server: FakeOpenAI
) -> None:
    settings = Settings(
        data_dir=tmp_path / "var",
        llm=LLMSettings(provider="openai", base_url=openai_server.url, model="qwen-plus", timeout_s=2),
    )
    service = KnowledgeService.from_settings(settings)
    try:
        service.ingest(corpus, progress=False)
        openai_server.reply(Reply("持有满90天后可以赎回[1]。"))
        answer = await service.answer(QUESTION, language="zh", channel="web")
    finally:
        await service.aclose()
    assert answer.mode == "generative"
    assert openai_server.requests[0]["body"]["model"] == "qwen-plus"


def test_blocks_of_llm_answers_are_counted_in_the_apps_metric_and_audited(
    tmp_path: Path, corpus: Path, openai_server: FakeOpenAI
) -> None:
    """The app's knowledge service audits blocked LLM answers through the app's metered sink."""
    secret = "metric-test-secret"
    settings = load_settings(
        data_dir=tmp_path / "var",
        llm={"provider": "openai", "base_url": openai_server.url, "model": "test-model", "timeout_s": 2},
        rasa={"action_secret": SecretStr(secret)},
    )
    KnowledgeService.from_settings(settings).ingest(corpus, progress=False)
    openai_server.reply(Reply("稳享保本保收益，闭眼买就行[1]。"))
    with TestClient(create_app(settings), headers={ACTION_SECRET_HEADER: secret}) as client:
        responses, _ = run(client, call("action_answer_question", QUESTION, "ask_product_info", sender="web:m1"))
        exposition = client.get("/metrics").text
    assert responses and "保本保收益" not in json.dumps(responses, ensure_ascii=False)
    blocks = {
        (s.labels["rule"], s.labels["source"]): s.value
        for family in text_string_to_metric_families(exposition)
        for s in family.samples
        if s.name == "advisor_guard_blocks_total"
    }
    assert blocks.get(("guarantee", "knowledge.generative"), 0) >= 1, blocks
    trail = settings.data_dir / "audit" / "compliance.jsonl"
    entries = [json.loads(line) for line in trail.read_text(encoding="utf-8").splitlines()]
    assert {(e["rule"], e["source"], e["conversation_id"]) for e in entries} >= {
        ("guarantee", "knowledge.generative", "web:m1")
    }


def _hit(n: int) -> Hit:
    return Hit(
        rank=n, chunk_id=f"doc:d{n}#0", id=f"d{n}", title=f"T{n}", text="x", kind="doc", doc_type="faq",
        language="zh", score=0.1, relevance=0.5, coverage=0.5, similarity=0.5,
    )  # fmt: skip


def test_cite_maps_markers_to_passages() -> None:
    text, citations, used = cite("甲【2】乙[1, 2]丙[7]。", [_hit(1), _hit(2)], keep_markers=True)
    assert text == "甲[1]乙[2][1]丙。"
    assert [c.id for c in citations] == ["d2", "d1"]
    assert [h.id for h in used] == ["d2", "d1", "d2"]
    stripped, _, _ = cite("甲 [1]。", [_hit(1)], keep_markers=False)
    assert stripped == "甲。"


def test_prompt_templates_are_versioned_files() -> None:
    prompts = PromptSet(REPO / "prompts", "v1")
    messages = prompts.render("怎么赎回？", [_hit(1)], language="en", channel="voice")
    assert [role for role, _ in messages] == ["system", "user"]
    assert "English" in messages[0][1] and "read aloud" in messages[0][1]
    assert "[1] 《T1》" in messages[1][1] and "怎么赎回？" in messages[1][1]
