"""Follow-up questions made standalone with an LLM, against a local OpenAI-compatible server; the
generative answer to the rewritten question stays grounded and cited. Any LLM failure keeps the
question as asked."""

from __future__ import annotations

import pytest

from bot.knowledge.llm import OpenAIChat
from bot.knowledge.service import KnowledgeService
from tests.knowledge.conftest import ServiceFactory
from tests.knowledge.fake_openai import FakeOpenAI, Reply
from tests.support.demo import DEMO

HISTORY = [
    ("user", "季享90天是什么产品？"),
    ("assistant", "季享是一款90天持有期的固定收益类理财产品，1000元起购。"),
    ("user", "风险高吗？"),
    ("assistant", "季享的风险等级：R2（中低风险）。"),
]


@pytest.fixture
def llm_service(make_service: ServiceFactory, openai_server: FakeOpenAI) -> KnowledgeService:
    """The demo content with a chat model behind the fake server."""
    chat = OpenAIChat(model="test-model", base_url=openai_server.url, api_key="sk-test", timeout_s=0.8)
    service = make_service(chat=chat)
    service.ingest(DEMO, progress=False)
    return service


async def test_a_follow_up_is_rewritten_from_the_last_turns(
    llm_service: KnowledgeService, openai_server: FakeOpenAI
) -> None:
    openai_server.reply(Reply("Standalone question: 季享90天持有期理财产品怎么赎回？"))
    rewritten = await llm_service.standalone("它怎么赎回？", HISTORY)
    assert rewritten == "季享90天持有期理财产品怎么赎回？"
    system, user = openai_server.requests[0]["body"]["messages"]
    assert system["role"] == "system" and "standalone" in system["content"]
    assert "Simplified Chinese" in system["content"]
    assert "Client: 季享90天是什么产品？" in user["content"] and "Assistant: 季享的风险等级" in user["content"]
    assert user["content"].rstrip().endswith("Standalone question:") and "它怎么赎回？" in user["content"]


async def test_the_rewritten_question_gets_a_grounded_cited_generative_answer(
    llm_service: KnowledgeService, openai_server: FakeOpenAI
) -> None:
    openai_server.reply(
        Reply("季享90天持有期理财产品怎么赎回？"),
        Reply("每笔份额持有满90天后可以赎回[1]，赎回资金T+1个交易日到账[1]。"),
    )
    question = await llm_service.standalone("它怎么赎回？", HISTORY)
    answer = await llm_service.answer(question, language="zh", channel="web")
    assert answer.mode == "generative" and answer.grounded
    assert [c.id for c in answer.citations] == ["WM002"], "[1] is the product the question names"
    assert answer.answer.startswith("每笔份额持有满90天后可以赎回[1]")
    assert answer.answer.count("理财非存款、产品有风险、投资须谨慎。") == 1
    prompt = openai_server.requests[1]["body"]["messages"][1]["content"]
    assert "[1] 《示例银行季享90天持有期固收理财产品》" in prompt and "持有满90天" in prompt


async def test_a_generative_answer_about_a_closed_product_says_it_cannot_be_bought(
    llm_service: KnowledgeService, openai_server: FakeOpenAI
) -> None:
    openai_server.reply(Reply("远见是一款三年期封闭式理财产品[1]。"))
    answer = await llm_service.answer("远见是什么产品？", language="zh", channel="web")
    assert answer.mode == "generative" and "远见目前已停售，不能购买" in answer.answer


@pytest.mark.parametrize(
    "reply",
    [
        Reply(status=500),
        Reply("季享怎么赎回？", delay_s=2.0),
        Reply("NO_ANSWER"),
        Reply("How do I redeem Jixiang?"),  # not the question's language
        Reply("季享" * 200),  # runs far longer than any rewrite of the question
        Reply("   "),
    ],
)
async def test_any_llm_failure_keeps_the_question_as_asked(
    llm_service: KnowledgeService, openai_server: FakeOpenAI, reply: Reply
) -> None:
    openai_server.reply(reply)
    assert await llm_service.standalone("它怎么赎回？", HISTORY) == "它怎么赎回？"
    assert len(openai_server.requests) == 1, "one try within the turn's budget"


async def test_no_history_or_no_llm_means_no_rewrite(
    llm_service: KnowledgeService, openai_server: FakeOpenAI, make_service: ServiceFactory
) -> None:
    assert await llm_service.standalone("季享怎么赎回？", []) == "季享怎么赎回？"
    assert await llm_service.standalone("它呢？", [("system", "ignored")]) == "它呢？"
    assert openai_server.requests == []
    assert await make_service().standalone("它怎么赎回？", HISTORY) == "它怎么赎回？"
