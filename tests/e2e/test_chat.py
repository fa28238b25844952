"""End to end: the real app in front of a real Rasa 3.6 server, over loopback."""

from __future__ import annotations

import uuid

import httpx
import pytest

from tests.support.stack import Stack

pytestmark = pytest.mark.e2e


def chat(stack: Stack, sender: str, text: str) -> httpx.Response:
    return httpx.post(f"{stack.app_url}/api/chat", json={"sender_id": sender, "message": text}, timeout=30)


def texts(response: httpx.Response) -> list[str]:
    assert response.status_code == 200, response.text
    return [m["text"] for m in response.json()["messages"]]


def test_health_reports_rasa_and_model(stack: Stack) -> None:
    health = httpx.get(f"{stack.app_url}/healthz").json()
    assert health["status"] == "ok"
    assert health["rasa"]["model"] == stack.model.name


def test_chinese_conversation_opens_with_ai_disclosure(stack: Stack) -> None:
    sender = uuid.uuid4().hex
    first = texts(chat(stack, sender, "你好"))
    assert "AI" in first[0] and "不是真人" in first[0]
    assert any("您好" in t for t in first[1:])
    second = texts(chat(stack, sender, "谢谢"))
    assert not any("不是真人" in t for t in second), "disclosure only at the start"
    assert any("不客气" in t for t in second)


def test_english_conversation_is_answered_in_english(stack: Stack) -> None:
    sender = uuid.uuid4().hex
    first = texts(chat(stack, sender, "hi there"))
    assert "AI" in first[0] and "not a person" in first[0]
    assert not any("您好" in t for t in first)
    reply = texts(chat(stack, sender, "am I talking to a robot?"))
    assert any("AI assistant" in t for t in reply)


def test_product_question_is_answered_from_approved_content_with_citations(stack: Stack) -> None:
    response = chat(stack, uuid.uuid4().hex, "货币基金怎么赎回，多久到账？")
    messages = response.json()["messages"]
    answer = messages[-1]
    assert answer["kind"] == "answer", messages
    assert answer["citations"], "an answer cites what it used"


def test_opt_out_is_confirmed(stack: Stack) -> None:
    reply = texts(chat(stack, uuid.uuid4().hex, "以后别再给我打电话了，把我号码删掉"))
    assert any("不再" in t for t in reply)


def test_rasa_down_gives_503_then_recovers(stack: Stack) -> None:
    sender = uuid.uuid4().hex
    texts(chat(stack, sender, "你好"))
    assert stack.proxy is not None, "the e2e stack runs with its proxy"
    stack.proxy.stop()
    try:
        down = chat(stack, sender, "手续费多少")
        assert down.status_code == 503
        assert down.json()["error"] == "dialogue_unavailable"
        assert "系统繁忙" in down.json()["message"]
    finally:
        stack.proxy.start()
    assert texts(chat(stack, sender, "谢谢"))


def test_each_turn_is_queryable_for_analytics(stack: Stack) -> None:
    sender = uuid.uuid4().hex
    texts(chat(stack, sender, "你好"))
    texts(chat(stack, sender, "我要找人工客服"))
    headers = {"X-API-Key": "e2e-leads-key"}
    assert httpx.get(f"{stack.app_url}/api/analytics/turns").status_code == 401
    body = httpx.get(
        f"{stack.app_url}/api/analytics/turns", params={"channel": "web", "limit": 5000}, headers=headers
    ).json()
    mine = [t for t in body["turns"] if t["conversation_id"] == f"web:{sender}"]
    assert [t["intent"] for t in mine] == ["greet", "request_human_advisor"]
    assert all(t["channel"] == "web" and 0 < t["confidence"] <= 1 and t["request_id"] for t in mine)
    assert "action_handoff" in mine[1]["actions"]
    assert all(t["text"] is None for t in mine), "the client's words are not exported by default"
