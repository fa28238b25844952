"""The LLM's second opinion on unsure turns, over real HTTP to the fake OpenAI-compatible server."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator

import pytest

from bot.catalogue import Catalogue, CatalogueProduct
from bot.dialogue.second_opinion import SecondOpinion, parse_opinion
from bot.knowledge.llm import OpenAIChat
from bot.settings import REPO_ROOT
from tests.knowledge import fake_openai
from tests.knowledge.fake_openai import FakeOpenAI, Reply

CATALOGUE = Catalogue([CatalogueProduct(code="AX1", name="稳盈60天", aliases=("稳盈60",), risk_level="R2")])


@pytest.fixture
def fake() -> Iterator[FakeOpenAI]:
    with fake_openai.running() as server:
        yield server


Make = Callable[..., SecondOpinion]


@pytest.fixture
async def opinion(fake: FakeOpenAI) -> AsyncIterator[Make]:
    """Builds second opinions on the fake; their HTTP clients are closed after the test."""
    chats: list[OpenAIChat] = []

    def make(*, timeout_s: float = 2.0) -> SecondOpinion:
        chat = OpenAIChat(model="test", base_url=fake.url, api_key="k", timeout_s=timeout_s, max_tokens=50)
        chats.append(chat)
        prompts = REPO_ROOT / "prompts"
        return SecondOpinion(chat=chat, prompts_dir=prompts, version="v1", below=0.6, timeout_s=timeout_s)

    yield make
    for chat in chats:
        await chat.aclose()


async def test_a_question_and_the_product_it_is_about(fake: FakeOpenAI, opinion: Make) -> None:
    fake.reply(Reply('{"intent": "question", "product": "ax1"}'))
    found = await opinion().ask("那个两个月的能随时取吗", [("assistant", "稳盈60是…")], CATALOGUE)
    assert found is not None and (found.intent, found.product, found.confidence) == ("ask_product_info", "AX1", None)
    sent = fake.requests[-1]["body"]["messages"]
    assert "那个两个月的能随时取吗" in sent[-1]["content"] and "AX1: 稳盈60天, 稳盈60" in sent[-1]["content"]


@pytest.mark.parametrize(
    "reply",
    [Reply("I think it's a question"), Reply('{"intent": "make_coffee"}'), Reply("", status=500)],
)
async def test_an_unusable_or_failed_opinion_changes_nothing(fake: FakeOpenAI, opinion: Make, reply: Reply) -> None:
    fake.reply(reply)
    assert await opinion().ask("嗯", [], CATALOGUE) is None


async def test_a_slow_model_is_not_waited_for(fake: FakeOpenAI, opinion: Make) -> None:
    fake.reply(Reply('{"intent": "greet"}', delay_s=1.0))
    assert await opinion(timeout_s=0.2).ask("喂", [], CATALOGUE) is None


def test_only_unsure_turns_are_asked_about(opinion: Make) -> None:
    second = opinion()
    assert second.wanted("nlu_fallback", 0.3) and second.wanted("greet", 0.5)
    assert not second.wanted("greet", 0.95)


def test_a_product_not_in_the_catalogue_is_never_taken() -> None:
    found = parse_opinion('{"intent": "express_interest", "product": "ZZ9"}', CATALOGUE)
    assert found is not None and found.product is None
