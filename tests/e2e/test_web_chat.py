"""The web chat page end to end: the real app and a real Rasa 3.6 over loopback, the demo content
ingested, in headless chromium at phone and desktop widths."""

from __future__ import annotations

import re
import uuid
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
import yaml

from tests.support.browser import needs_chromium
from tests.support.stack import Stack

pytestmark = pytest.mark.e2e
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1366, "height": 768}


def approved_faq_titles(folder: Path, language: str, today: date) -> set[str]:
    """Read straight from the content files: approved FAQ documents valid today on the web for everyone."""
    titles = set()
    for path in (folder / "docs").glob("*.md"):
        front = yaml.safe_load(path.read_text(encoding="utf-8").split("---")[1])
        if (
            front.get("type") == "faq"
            and front.get("language") == language
            and front.get("approval")
            and "web" in front.get("channels", [])
            and "all" in front.get("audience", ["all"])
            and front["valid_from"] <= today <= front["valid_until"]
        ):
            titles.add(front["title"])
    return titles


def chat(stack: Stack, sender: str, text: str) -> list[dict[str, Any]]:
    response = httpx.post(f"{stack.app_url}/api/chat", json={"sender_id": sender, "message": text}, timeout=30)
    assert response.status_code == 200, response.text
    messages: list[dict[str, Any]] = response.json()["messages"]
    return messages


def open_page(browser: Any, stack: Stack, viewport: dict[str, int] = PHONE) -> Any:
    page = browser.new_page(viewport=viewport, locale="zh-CN")
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.errors = errors
    page.goto(stack.app_url + "/")
    page.wait_for_selector("#suggestion-list button")
    return page


def say(page: Any, text: str) -> None:
    """Type and press Enter; wait until the reply is in."""
    sent = page.locator("#messages .msg.me").count()
    box = page.get_by_role("textbox", name=re.compile("消息"))
    box.fill(text)
    box.press("Enter")
    page.wait_for_function(f"document.querySelectorAll('#messages .msg.me').length === {sent + 1}")
    page.wait_for_selector("#send:not([disabled])", timeout=30_000)


def bubbles(page: Any) -> list[str]:
    texts: list[str] = page.eval_on_selector_all(
        "#messages .msg:not(.typing)",
        "els => els.map(e => (e.classList.contains('me') ? 'me: ' : 'bot: ') + e.firstChild.textContent)",
    )
    return texts


def test_history_api_returns_what_the_client_saw_from_rasa(stack: Stack) -> None:
    me = "w" + uuid.uuid4().hex
    texts = ("你好", "赎回多久到账？", "我想做风险测评", "what fees do you charge?")
    live = [(text, chat(stack, me, text)) for text in texts]
    body = httpx.get(f"{stack.app_url}/api/chat/history", params={"sender_id": me}).json()
    expected: list[dict[str, Any]] = []
    for text, replies in live:
        expected.append({"role": "user", "text": text, "kind": None, "citations": [], "buttons": []})
        expected += [{"role": "bot", **m} for m in replies]
    assert body["messages"] == expected
    assert "不是真人" in body["messages"][1]["text"], "the AI disclosure follows the message that opened the session"
    assert any(m["citations"] for m in body["messages"]), "sources are restored with their answers"
    assert body["language"] == "en"
    other = httpx.get(f"{stack.app_url}/api/chat/history", params={"sender_id": "w" + uuid.uuid4().hex}).json()
    assert other["messages"] == []


def test_every_suggested_question_gets_a_cited_answer(stack: Stack) -> None:
    today = datetime.now(ZoneInfo(stack.settings.knowledge.timezone)).date()
    for lang in ("zh", "en"):
        welcome = httpx.get(f"{stack.app_url}/api/chat/welcome", params={"lang": lang}).json()
        titles = [s["title"] for s in welcome["suggestions"]]
        assert 4 <= len(titles) <= 6
        assert set(titles) <= approved_faq_titles(stack.settings.knowledge.source_dir, lang, today)
        for title in titles:
            replies = chat(stack, "w" + uuid.uuid4().hex, title)
            said = [r for r in replies if r["kind"] != "ai_disclosure"]  # an offer (the questionnaire) may follow
            assert said[0]["kind"] == "answer" and said[0]["citations"], (title, replies)


@needs_chromium
def test_first_screen_suggests_approved_faq_and_tapping_one_gets_a_cited_answer(browser, stack: Stack) -> None:  # type: ignore[no-untyped-def]
    page = open_page(browser, stack)
    greeting = page.inner_text("#greeting-zh")
    assert stack.settings.app.bank_name in greeting and "AI" in greeting
    assert stack.settings.app.bank_name_en in page.inner_text("#greeting-en")
    today = datetime.now(ZoneInfo(stack.settings.knowledge.timezone)).date()
    suggested = page.locator("#suggestion-list button").all_inner_texts()
    assert 4 <= len(suggested) <= 6
    assert set(suggested) <= approved_faq_titles(stack.settings.knowledge.source_dir, "zh", today)
    page.get_by_role("button", name=suggested[0]).click()
    page.wait_for_selector("#messages .msg.bot[data-kind='answer'] .cites .source", timeout=30_000)
    assert bubbles(page)[0] == f"me: {suggested[0]}"
    assert page.locator("#messages .msg[data-kind='answer'] .source").first.inner_text()
    assert page.errors == []


@needs_chromium
def test_reload_restores_the_visible_history_as_the_server_holds_it(browser, stack: Stack) -> None:  # type: ignore[no-untyped-def]
    page = open_page(browser, stack)
    for text in ("你好", "赎回多久到账？", "我想做风险测评"):
        say(page, text)
    before = bubbles(page)
    assert before[-1].startswith("bot: 1/6"), "the questionnaire is waiting for its first answer"
    sender = page.evaluate("localStorage.getItem('advisor.sender_id')")

    page.reload()
    page.wait_for_function(f"document.querySelectorAll('#messages .msg').length === {len(before)}")
    assert bubbles(page) == before, "after a reload the page shows the same conversation"
    assert page.locator("#messages .msg[data-kind='answer'] .source").count() >= 1
    server = httpx.get(f"{stack.app_url}/api/chat/history", params={"sender_id": sender}).json()["messages"]
    assert [m["text"] for m in server] == [b.split(": ", 1)[1] for b in before]
    assert page.errors == []


@needs_chromium
def test_new_conversation_starts_fresh(browser, stack: Stack) -> None:  # type: ignore[no-untyped-def]
    page = open_page(browser, stack)
    say(page, "你好")
    old = page.evaluate("localStorage.getItem('advisor.sender_id')")
    page.get_by_role("button", name=re.compile("新对话")).click()
    assert page.locator("#messages .msg").count() == 0
    new = page.evaluate("localStorage.getItem('advisor.sender_id')")
    assert new != old and re.fullmatch(r"w[0-9a-f]{32}", new)
    say(page, "你好")
    assert "不是真人" in bubbles(page)[1], "Rasa opened a new conversation (with the AI disclosure)"
    page.reload()
    page.wait_for_function("document.querySelectorAll('#messages .msg').length === 3")
    assert len(bubbles(page)) == 3
    old_history = httpx.get(f"{stack.app_url}/api/chat/history", params={"sender_id": old}).json()["messages"]
    assert len(old_history) == 3, "the old conversation stays on the server; only the device forgot it"


@needs_chromium
@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["390px", "1366px"])
def test_a_real_conversation_fits_the_screen(browser, stack: Stack, viewport: dict[str, int]) -> None:  # type: ignore[no-untyped-def]
    page = open_page(browser, stack, viewport)
    for text in ("七天通知存款怎么用？", "what fees do I pay on wealth products and funds?"):
        say(page, text)
    scroll, client = page.evaluate("[document.documentElement.scrollWidth, document.documentElement.clientWidth]")
    assert scroll <= client == viewport["width"]
    for bubble in page.locator("#messages .msg").all():
        box = bubble.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= viewport["width"] + 0.5
