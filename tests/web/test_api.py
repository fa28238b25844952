"""The web chat API against a scripted fake Rasa: the first screen, quick replies and restored history."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from tests.web.conftest import WebStack
from tests.web.fake_rasa import Script, bot_event

QUESTION = {
    "custom": {
        "zh": "1/6 您的年龄段是？",
        "en": "1/6 Your age band?",
        "kind": "question",
        "buttons": [
            {"title": {"zh": "A. 18-30岁", "en": "A. 18-30"}, "payload": {"zh": "18-30岁", "en": "18-30"}},
            {"title": {"zh": "B. 31-45岁", "en": "B. 31-45"}},
        ],
    }
}
ANSWER = {
    "custom": {
        "text": "赎回资金一般T+1个交易日到账。",
        "kind": "answer",
        "citations": [{"id": "faq-redeem-zh", "title": "理财产品怎么赎回？"}],
    }
}


def sender() -> str:
    return "w" + uuid.uuid4().hex


def chat(web: WebStack, sender_id: str, text: str) -> list[dict[str, Any]]:
    response = httpx.post(f"{web.url}/api/chat", json={"sender_id": sender_id, "message": text}, timeout=10)
    assert response.status_code == 200, response.text
    messages: list[dict[str, Any]] = response.json()["messages"]
    return messages


def history(web: WebStack, sender_id: str) -> httpx.Response:
    return httpx.get(f"{web.url}/api/chat/history", params={"sender_id": sender_id}, timeout=10)


# -- first screen ------------------------------------------------------------------------------------


@pytest.mark.parametrize("web_options", [{"suggested_faqs": ["faq-redeem-zh", "faq-redeem-en", "faq-draft-zh"]}])
def test_welcome_names_the_bank_and_suggests_valid_web_faq_questions(web: WebStack) -> None:
    zh = httpx.get(f"{web.url}/api/chat/welcome", params={"lang": "zh"}).json()
    assert zh["bank_name"] == {"zh": "测试银行", "en": "Test Bank"}
    assert "测试银行" in zh["greeting"]["zh"] and "AI" in zh["greeting"]["zh"] and "不是真人" in zh["greeting"]["zh"]
    assert "Test Bank" in zh["greeting"]["en"] and "not a person" in zh["greeting"]["en"]
    # pinned first; then by id; never drafts, expired, other channels, audience-targeted, articles or
    # titles that are not questions
    assert [(s["id"], s["title"]) for s in zh["suggestions"]] == [
        ("faq-redeem-zh", "理财产品怎么赎回？"),
        ("faq-buy-zh", "怎么购买理财产品？"),
        ("faq-fees-zh", "买理财要交哪些费用？"),
    ]
    en = httpx.get(f"{web.url}/api/chat/welcome", params={"lang": "en"}).json()
    assert en["suggestions_title"] == "You could ask:"
    assert [s["title"] for s in en["suggestions"]] == ["How do I redeem a wealth product?"]


@pytest.mark.parametrize("web_options", [{"suggestions": 2}])
def test_welcome_offers_at_most_the_configured_number(web: WebStack) -> None:
    body = httpx.get(f"{web.url}/api/chat/welcome").json()
    assert body["language"] == "zh" and [s["id"] for s in body["suggestions"]] == ["faq-buy-zh", "faq-fees-zh"]


def test_welcome_refuses_an_unknown_language(web: WebStack) -> None:
    response = httpx.get(f"{web.url}/api/chat/welcome", params={"lang": "fr"})
    assert response.status_code == 422 and response.json()["detail"][0]["field"] == "lang"


# -- quick replies -----------------------------------------------------------------------------------


def test_quick_replies_come_in_the_conversation_language_and_never_as_commands(web: WebStack, script: Script) -> None:
    script.replies["开始测评"] = script.replies["start"] = [QUESTION]
    native = {"text": "现在做风险测评吗？", "buttons": [{"title": "好的", "payload": "/affirm"}]}
    script.replies["要不要测评"] = [native]
    zh = chat(web, sender(), "开始测评")[-1]
    assert zh["text"] == "1/6 您的年龄段是？" and zh["kind"] == "question"
    assert zh["buttons"] == [
        {"title": "A. 18-30岁", "payload": "18-30岁"},
        {"title": "B. 31-45岁", "payload": "B. 31-45岁"},  # no payload: the title is sent
    ]
    en = chat(web, sender(), "start")[-1]
    assert en["buttons"] == [{"title": "A. 18-30", "payload": "18-30"}, {"title": "B. 31-45", "payload": "B. 31-45"}]
    reply = chat(web, sender(), "要不要测评")[-1]
    assert reply["buttons"] == [{"title": "好的", "payload": "好的"}], "an /intent payload is replaced by its title"


# -- history -----------------------------------------------------------------------------------------


def test_history_restores_what_the_client_saw_in_order_and_language(web: WebStack, script: Script) -> None:
    script.replies.update({"赎回多久到账": [ANSWER], "开始测评": [QUESTION], "and in English?": [QUESTION]})
    me = sender()
    live = [
        ("你好", chat(web, me, "你好")),
        ("赎回多久到账", chat(web, me, "赎回多久到账")),
        ("开始测评", chat(web, me, "开始测评")),
        ("and in English?", chat(web, me, "and in English?")),
    ]
    body = history(web, me).json()
    expected = []
    for text, replies in live:
        expected.append({"role": "user", "text": text, "kind": None, "citations": [], "buttons": []})
        expected += [{"role": "bot", **m} for m in replies]
    assert body["messages"] == expected, "the same messages, in the order the client saw them"
    assert body["messages"][1]["kind"] == "disclosure", "the session's opening comes after the first message"
    assert body["messages"][4]["citations"] == [{"id": "faq-redeem-zh", "title": "理财产品怎么赎回？"}]
    assert body["messages"][-1]["buttons"][0] == {"title": "A. 18-30", "payload": "18-30"}
    assert body["sender_id"] == me and body["language"] == "en"


def test_history_shows_guarded_text_exactly_as_sent(web: WebStack, script: Script) -> None:
    script.replies["保本吗"] = [{"custom": {"text": "这款产品保本保收益，放心买。"}}]
    me = sender()
    live = chat(web, me, "保本吗")[-1]["text"]
    assert "保本" not in live and "热线" in live, "the guard replaced the claim with its safe fallback"
    assert history(web, me).json()["messages"][-1]["text"] == live


def test_unknown_conversation_has_no_history(web: WebStack) -> None:
    body = history(web, sender()).json()
    assert body["messages"] == [] and body["language"] is None


def test_only_web_conversations_are_readable(web: WebStack) -> None:
    token = uuid.uuid4().hex + uuid.uuid4().hex
    for channel in ("wecom", "voice", "webx"):
        web.tracker.add(f"{channel}:{token}", {"event": "user", "text": "我的手机号13800138000", "metadata": {}})
        web.tracker.add(f"{channel}:{token}", bot_event({"text": "好的"}))
    assert history(web, token).json()["messages"] == []


@pytest.mark.parametrize(
    "bad",
    [
        "u1",  # guessable
        "w" + "0" * 20,  # too short to be 128 random bits
        "wecom:" + uuid.uuid4().hex,  # another channel's id
        "../" + uuid.uuid4().hex,
        uuid.uuid4().hex + "%",
        "w" * 129,
    ],
)
def test_history_refuses_ids_that_are_not_random_tokens(web: WebStack, bad: str) -> None:
    response = history(web, bad)
    assert response.status_code == 422
    assert response.json()["error"] == "invalid_request" and response.json()["detail"][0]["field"] == "sender_id"


@pytest.mark.parametrize("web_options", [{"history_messages": 3}])
def test_history_is_bounded_to_the_latest_messages(web: WebStack) -> None:
    me = sender()
    for text in ("一", "二", "三"):
        chat(web, me, text)
    assert [(m["role"], m["text"]) for m in history(web, me).json()["messages"]] == [
        ("bot", "好的。"),
        ("user", "三"),
        ("bot", "好的。"),
    ]
