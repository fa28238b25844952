"""End to end with an LLM configured (the fake OpenAI-compatible server over loopback): a hand-off through
a real Rasa reaches the advisor with the model's summary. A stack of its own, so the other e2e tests keep
the default (no LLM)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.test_dialogue_flows import leads_for, say
from tests.knowledge import fake_openai
from tests.knowledge.fake_openai import FakeOpenAI, Reply
from tests.support.stack import Stack, running_stack

pytestmark = pytest.mark.e2e
SUMMARY = "客户希望由理财经理联系，想了解货币基金的费用。"


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeOpenAI]:
    with fake_openai.running() as server:
        yield server


@pytest.fixture(scope="module")
def llm_stack(tmp_path_factory: pytest.TempPathFactory, fake: FakeOpenAI) -> Iterator[Stack]:
    llm = {"provider": "openai", "base_url": fake.url, "model": "test", "timeout_s": 3}
    with running_stack(tmp_path_factory.mktemp("e2e-llm-var"), llm=llm) as running:
        yield running


def test_the_hand_off_summary_comes_from_the_configured_llm(llm_stack: Stack, fake: FakeOpenAI) -> None:
    fake.reply(Reply(SUMMARY))
    sender = uuid.uuid4().hex
    say(llm_stack, sender, "我想找理财经理聊聊货币基金的费用")  # a request for a person: a hand-off
    prompt = Path(llm_stack.settings.llm.prompts_dir / "handoff_summary.v1.system.txt").read_text(encoding="utf-8")
    asked = [
        r["body"]["messages"] for r in fake.requests if r["body"].get("messages", [{}])[0].get("content") == prompt
    ]
    assert asked and "货币基金的费用" in asked[-1][-1]["content"]  # the transcript went to the model
    (lead,) = [lead for lead in leads_for(llm_stack, sender) if lead["type"] == "advisor_request"]
    assert lead["summary"].startswith(SUMMARY), lead["summary"]
