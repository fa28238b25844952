"""End to end through the app and a real Rasa: the bank's name from config in Rasa's own responses,
approved answers that reach the client, and the required wording only where it belongs."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from tests.support.stack import E2E_BANK, Stack

pytestmark = pytest.mark.e2e
RISK_ZH = "理财非存款、产品有风险、投资须谨慎。"


def say(stack: Stack, sender: str, text: str) -> list[dict[str, Any]]:
    response = httpx.post(f"{stack.app_url}/api/chat", json={"sender_id": sender, "message": text}, timeout=30)
    assert response.status_code == 200, response.text
    messages: list[dict[str, Any]] = response.json()["messages"]
    return messages


def test_rasa_responses_name_the_configured_bank(stack: Stack) -> None:
    zh = say(stack, uuid.uuid4().hex, "你好")
    disclosure = next(m["text"] for m in zh if m.get("kind") == "ai_disclosure")
    assert f"我是{E2E_BANK['bank_name']}的AI" in disclosure and "示例银行" not in disclosure
    en = say(stack, uuid.uuid4().hex, "hello there")
    disclosure = next(m["text"] for m in en if m.get("kind") == "ai_disclosure")
    assert f"I'm {E2E_BANK['bank_name_en']}'s AI" in disclosure and "{" not in disclosure


def test_a_greeting_carries_no_risk_wording(stack: Stack) -> None:
    messages = say(stack, uuid.uuid4().hex, "你好")
    assert any("理财" in m["text"] for m in messages), "the premise: the greeting speaks of 理财"
    assert not any(RISK_ZH in m["text"] for m in messages)


@pytest.mark.parametrize("question", ["大额存单利率多少？", "朝夕理财可以随时赎回吗？"])
def test_approved_answers_reach_the_client(stack: Stack, question: str) -> None:
    messages = say(stack, uuid.uuid4().hex, question)
    answer = messages[-1]
    assert answer.get("kind") == "answer" and answer["citations"], messages
    assert "无法在此答复" not in answer["text"], "not replaced by the guard's fallback"
    assert "".join(m["text"] for m in messages).count(RISK_ZH) <= 1
