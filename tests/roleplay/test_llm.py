"""The LLM path against a local OpenAI-compatible server over loopback: voice, fallback, leak guard, judge."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from pydantic import SecretStr

from bot.db import make_engine, session_factory
from bot.roleplay.service import TrainingService
from bot.settings import Settings
from tests.roleplay.support import build_schema, fake_openai, turns
from tests.support.servers import serve


class Script:
    """What the fake model answers next: persona replies, judge replies, or HTTP errors."""

    def __init__(self) -> None:
        self.client_reply: tuple[int, str] = (200, "嗯，你说吧，我听着。")
        self.judge_reply: tuple[int, str] = (
            200,
            json.dumps(
                {"overall": "开场不错，但要先问风险测评。", "criteria": {"kyc": "先问测评结果再推荐。"}},
                ensure_ascii=False,
            ),
        )

    def __call__(self, body: dict[str, Any]) -> tuple[int, str]:
        system = body["messages"][0]["content"]
        return self.judge_reply if "senior trainer" in system else self.client_reply


@pytest.fixture
def script() -> Script:
    return Script()


@pytest.fixture
def llm_server(script: Script) -> Iterator[tuple[str, FastAPI]]:
    app = fake_openai(script)
    with serve(app) as url:
        yield url, app


@pytest.fixture
async def llm_service(rp_settings: Settings, llm_server: tuple[str, FastAPI]) -> AsyncIterator[TrainingService]:
    url, _ = llm_server
    llm = rp_settings.llm.model_copy(
        update={
            "provider": "openai",
            "base_url": url + "/v1",
            "api_key": SecretStr("test-key"),
            "model": "fake-model",
            "timeout_s": 5.0,
        }
    )
    settings = rp_settings.model_copy(update={"llm": llm})
    build_schema(settings.database_url)
    engine = make_engine(settings.database_url)
    service = TrainingService.from_settings(settings, sessions=session_factory(engine))
    try:
        yield service
    finally:
        await service.aclose()
        engine.dispose()


async def test_persona_speaks_through_the_llm(
    llm_service: TrainingService, llm_server: tuple[str, FastAPI], script: Script
) -> None:
    view = await llm_service.start(persona_id="dormant_payroll", advisor_id="a1", seed=3)
    assert view.turns[0].engine == "scripted"  # the opening is always scripted (reproducible)
    script.client_reply = (200, "王磊：行吧，你说。")
    reply = await llm_service.say(view.session_id, "您好，我是理财经理小王，打扰您几分钟可以吗？")
    assert reply.reply.engine == "llm" and not reply.fallback
    assert reply.reply.text == "行吧，你说。"  # the role label is stripped

    body = llm_server[1].state.requests[-1]
    assert body["model"] == "fake-model" and body["temperature"] == 0.7
    system = body["messages"][0]["content"]
    assert "王磊" in system and "Not earned yet" in system and "房贷" in system
    assert "Accept it" in system  # the scripted plan as a stage direction: the busy objection was handled
    roles = [m["role"] for m in body["messages"]]
    assert roles == ["system", "assistant", "user"]


async def test_failed_turn_falls_back_to_the_script(llm_service: TrainingService, script: Script) -> None:
    view = await llm_service.start(persona_id="dormant_payroll", advisor_id="a1", seed=3)
    script.client_reply = (500, "model overloaded")
    reply = await llm_service.say(view.session_id, "您好，打扰您几分钟可以吗？")
    assert reply.fallback and reply.reply.engine == "scripted"
    assert reply.reply.text in {"行，那你简单说说。", "好吧，那你长话短说。"}
    script.client_reply = (200, "好的，你继续。")
    assert (await llm_service.say(view.session_id, "请问您平时忙吗？")).reply.engine == "llm"


@pytest.mark.parametrize(
    "bad",
    ["说实话，我明年想提前还房贷。", "作为一个AI语言模型，我不能扮演客户。", "   "],
    ids=["leaks-an-unearned-need", "out-of-character", "blank"],
)
async def test_unusable_replies_are_replaced(llm_service: TrainingService, script: Script, bad: str) -> None:
    view = await llm_service.start(persona_id="dormant_payroll", advisor_id="a1", seed=3)
    script.client_reply = (200, bad)
    reply = await llm_service.say(view.session_id, "嗯，好的。")
    assert reply.fallback and "房贷" not in reply.reply.text


async def test_an_earned_need_may_be_voiced(llm_service: TrainingService, script: Script) -> None:
    view = await llm_service.start(persona_id="dormant_payroll", advisor_id="a1", seed=3)
    script.client_reply = (200, "其实明年想提前还点房贷。")
    reply = await llm_service.say(view.session_id, "您这笔钱有什么打算吗？")
    assert reply.reply.engine == "llm" and "房贷" in reply.reply.text


async def test_judge_adds_comments_but_never_changes_scores(
    llm_service: TrainingService, script: Script, scorer: Any, book: Any, client_for: Any
) -> None:
    transcript = turns(("advisor", "您好，建议您考虑季享。"), ("client", "好。"))
    plain = scorer.score(transcript, book["neutral"], client_for("neutral"))
    judged = await llm_service.score(transcript)
    assert judged.judge_comment == "开场不错，但要先问风险测评。"
    assert judged.criteria["kyc"].comment == "先问测评结果再推荐。"
    assert judged.score == plain.score and judged.passed == plain.passed

    script.judge_reply = (503, "down")
    failed = await llm_service.score(transcript)
    assert failed.judge_comment is None and failed.judge_error and failed.score == plain.score

    script.judge_reply = (200, "整体不错。")  # not JSON: kept as the overall comment
    assert (await llm_service.score(transcript)).judge_comment == "整体不错。"


async def test_ending_a_session_stores_the_judged_report(llm_service: TrainingService) -> None:
    view = await llm_service.start(persona_id="neutral", advisor_id="a7", seed=1)
    await llm_service.say(view.session_id, "您好，请问您的风险测评结果是什么？")
    report = await llm_service.end(view.session_id)
    stored = await llm_service.get(view.session_id)
    assert stored.report == report and report.judge_comment
