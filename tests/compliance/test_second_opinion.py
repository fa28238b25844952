"""The optional LLM second opinion, against a real OpenAI-compatible HTTP server on loopback.

Only text the rules pass and that speaks of outcomes is sent; the model's verdict comes back with its
reason and is audited either way; a failing model leaves the rules' verdict standing.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.compliance import cli as compliance_cli
from bot.compliance.outgoing import OutgoingGuard
from bot.compliance.second_opinion import (
    ReviewedGuard,
    SecondOpinion,
    second_opinion_from_settings,
)
from bot.core.audit import AuditEntry
from bot.core.messages import BotMessage
from bot.knowledge.llm import judging_chat
from bot.settings import Settings, load_settings
from tests.knowledge import fake_openai
from tests.knowledge.fake_openai import FakeOpenAI, Reply

VIOLATION = json.dumps({"violation": True, "rule": "guarantee", "reason": "暗示本金不会损失"}, ensure_ascii=False)
FINE = json.dumps({"violation": False, "rule": None, "reason": "只是说明赎回到账时间"}, ensure_ascii=False)
SUBTLE = "这款产品买了以后您就等好消息吧，收益这块您心里有数。"  # passes the rules, speaks of returns


@pytest.fixture
def server() -> Iterator[FakeOpenAI]:
    with fake_openai.running() as fake:
        yield fake


@pytest.fixture
def settings(server: FakeOpenAI, tmp_path: Path) -> Settings:
    return load_settings(
        data_dir=tmp_path / "var",
        llm={"provider": "openai", "base_url": server.url, "model": "test", "timeout_s": 2.0},
        compliance={"second_opinion": True},
    )


class Collecting:
    def __init__(self) -> None:
        self.entries: list[AuditEntry] = []

    async def record(self, entry: AuditEntry) -> None:
        self.entries.append(entry)


def reviews(settings: Settings) -> list[dict[str, object]]:
    path = settings.data_dir / "audit" / "second_opinion.jsonl"
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()] if path.exists() else []


def _guard(settings: Settings, audit: Collecting) -> ReviewedGuard:
    reviewer = second_opinion_from_settings(settings, chat=lambda: judging_chat(settings.llm))
    assert isinstance(reviewer, SecondOpinion)
    return ReviewedGuard(reviewer=reviewer, products=list, audit=audit)


async def test_a_violation_the_rules_missed_is_blocked_with_the_models_reason(
    server: FakeOpenAI, settings: Settings
) -> None:
    server.reply(Reply(VIOLATION))
    audit = Collecting()
    [sent] = await _guard(settings, audit).apply(
        [BotMessage(text=SUBTLE)], language="zh", conversation_id="web:1", channel="web"
    )
    assert sent.text == OutgoingGuard(products=list, audit=None).fallback("zh")
    assert [e.rule for e in audit.entries] == ["second_opinion"]
    [review] = reviews(settings)
    assert review["outcome"] == "violation" and review["reason"] == "暗示本金不会损失"
    assert review["conversation_id"] == "web:1" and review["source"] == "gateway.web"
    assert SUBTLE in server.requests[0]["body"]["messages"][1]["content"]


async def test_an_approval_passes_the_message_and_is_still_audited(server: FakeOpenAI, settings: Settings) -> None:
    server.reply(Reply(FINE))
    audit = Collecting()
    [sent] = await _guard(settings, audit).apply(
        [BotMessage(text=SUBTLE)], language="zh", conversation_id="web:1", channel="web"
    )
    assert sent.text.startswith(SUBTLE) and audit.entries == []
    assert [r["outcome"] for r in reviews(settings)] == ["ok"]


async def test_only_text_the_rules_pass_and_that_speaks_of_outcomes_is_sent(
    server: FakeOpenAI, settings: Settings
) -> None:
    server.reply(Reply(VIOLATION))
    audit = Collecting()
    messages = [
        BotMessage(text="您好，有什么可以帮您？"),  # no outcome words
        BotMessage(text="这款理财保本保息。"),  # the rules block it themselves
    ]
    sent = await _guard(settings, audit).apply(messages, language="zh", conversation_id="web:1", channel="web")
    assert sent[0].text == "您好，有什么可以帮您？"
    assert sent[1].text == OutgoingGuard(products=list, audit=None).fallback("zh") and [
        e.rule for e in audit.entries
    ] == ["guarantee"]
    assert server.requests == []


@pytest.mark.parametrize("reply", [Reply(status=500), Reply("我觉得没问题")])
async def test_a_failing_model_leaves_the_rules_verdict(server: FakeOpenAI, settings: Settings, reply: Reply) -> None:
    server.reply(reply)
    audit = Collecting()
    [sent] = await _guard(settings, audit).apply(
        [BotMessage(text=SUBTLE)], language="zh", conversation_id="web:1", channel="web"
    )
    assert sent.text.startswith(SUBTLE) and audit.entries == []
    assert [r["outcome"] for r in reviews(settings)] == ["unavailable"]


def test_off_without_an_llm_or_when_switched_off(tmp_path: Path) -> None:
    no_llm = load_settings(data_dir=tmp_path, llm={"provider": None}, compliance={"second_opinion": True})
    assert second_opinion_from_settings(no_llm, chat=lambda: judging_chat(no_llm.llm)) is None
    switched_off = load_settings(
        data_dir=tmp_path, llm={"provider": "openai", "base_url": "http://127.0.0.1:9/v1"}, compliance={}
    )
    assert second_opinion_from_settings(switched_off, chat=lambda: judging_chat(switched_off.llm)) is None


def test_cli_second_opinion(server: FakeOpenAI, settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(compliance_cli, "get_settings", lambda: settings)
    server.reply(Reply(VIOLATION))
    result = CliRunner().invoke(
        compliance_cli.compliance_app, ["check", SUBTLE, "--json", "--no-disclosures", "--second-opinion"]
    )
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["violations"] == [] and payload["ok"] is False
    assert payload["second_opinion"] == {"outcome": "violation", "rule": "guarantee", "reason": "暗示本金不会损失"}
    assert reviews(settings)[0]["source"] == "cli"


def test_cli_second_opinion_needs_an_llm(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        compliance_cli, "get_settings", lambda: load_settings(data_dir=tmp_path, llm={"provider": None})
    )
    result = CliRunner().invoke(compliance_cli.compliance_app, ["check", SUBTLE, "--json", "--second-opinion"])
    assert result.exit_code == 2 and "llm.provider" in result.output


async def test_the_review_log_masks_personal_data(server: FakeOpenAI, settings: Settings) -> None:
    server.reply(Reply(FINE))
    reviewer = second_opinion_from_settings(settings, chat=lambda: judging_chat(settings.llm))
    assert reviewer is not None
    opinion = await reviewer.review("收益的事回头打我电话13812345678细说。", conversation_id="web:2")
    await reviewer.aclose()
    assert opinion is not None and not opinion.violation
    [review] = reviews(settings)
    assert "13812345678" not in str(review["text"]) and review["sha256"]
