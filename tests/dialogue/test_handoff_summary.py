"""The hand-off summary uses the configured LLM: the app as built by `create_app`, a real action call on
/webhook, and the fake OpenAI-compatible server over loopback."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from bot.actions import ACTION_SECRET_HEADER
from bot.app import create_app
from bot.leads.models import Lead
from bot.settings import Settings
from tests.conftest import FakeAnswerer
from tests.knowledge import fake_openai
from tests.knowledge.fake_openai import FakeOpenAI, Reply
from tests.support.action_calls import call, rows, run

SECRET = "summary-test-secret"
SUMMARY = "客户希望由理财经理联系，关注季享产品，语气平和。"


@pytest.fixture
def fake() -> Iterator[FakeOpenAI]:
    with fake_openai.running() as server:
        yield server


def with_llm(settings: Settings, fake: FakeOpenAI) -> Settings:
    llm = settings.llm.model_copy(update={"provider": "openai", "base_url": fake.url, "model": "test"})
    rasa = settings.rasa.model_copy(update={"action_secret": SecretStr(SECRET)})
    return settings.model_copy(update={"llm": llm, "rasa": rasa})


def summary_requests(fake: FakeOpenAI, prompt: str) -> list[list[dict[str, str]]]:
    chats = [r["body"]["messages"] for r in fake.requests if r["path"].endswith("/chat/completions")]
    return [messages for messages in chats if messages[0] == {"role": "system", "content": prompt}]


def test_the_hand_off_summary_comes_from_the_configured_llm(settings: Settings, fake: FakeOpenAI) -> None:
    fake.reply(Reply(SUMMARY))
    app_settings = with_llm(settings, fake)
    prompt = (app_settings.llm.prompts_dir / "handoff_summary.v1.system.txt").read_text(encoding="utf-8")
    app = create_app(app_settings, knowledge=FakeAnswerer())
    with TestClient(app, headers={ACTION_SECRET_HEADER: SECRET}) as client:
        run(client, call("action_handoff", "我想找理财经理聊聊季享", "request_human_advisor"))
    (lead,) = rows(app_settings, Lead)
    (sent,) = summary_requests(fake, prompt)
    assert "我想找理财经理聊聊季享" in sent[-1]["content"]  # the transcript went to the model
    assert lead.summary is not None and lead.summary.startswith(SUMMARY)  # and its summary to the advisor
    assert "我想找理财经理聊聊季享" in lead.summary  # the plain transcript stays below it


def test_a_failing_llm_leaves_the_plain_summary_and_the_lead(settings: Settings, fake: FakeOpenAI) -> None:
    fake.reply(Reply(status=500))
    app_settings = with_llm(settings, fake)
    with TestClient(create_app(app_settings, knowledge=FakeAnswerer()), headers={ACTION_SECRET_HEADER: SECRET}) as c:
        run(c, call("action_handoff", "我要转人工", "request_human_advisor"))
    (lead,) = rows(app_settings, Lead)
    assert lead.summary is not None and lead.summary.startswith("- 我要转人工")
