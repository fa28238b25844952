"""The chat page in headless chromium: the real app and page, a scripted fake Rasa behind them.

The dialogue's own quick replies (the questionnaire's options) are not in the domain yet, so the
buttons here come from the fake in the agreed payload format (see bot/dialogue/render.py).
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.support.browser import needs_chromium
from tests.web.conftest import WebStack
from tests.web.fake_rasa import Script
from tests.web.test_api import ANSWER, QUESTION

pytestmark = needs_chromium
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1366, "height": 768}
NEXT_QUESTION = {
    "custom": {
        "zh": "2/6 您的投资经验？",
        "en": "2/6 Your experience?",
        "kind": "question",
        "buttons": [{"title": {"zh": "A. 没有", "en": "A. none"}}, {"title": {"zh": "B. 买过理财", "en": "B. some"}}],
    }
}


def open_page(browser: Any, web: WebStack, viewport: dict[str, int] = PHONE) -> Any:
    page = browser.new_page(viewport=viewport, locale="zh-CN")
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.errors = errors
    page.goto(web.url + "/")
    page.wait_for_selector("#suggestion-list button")
    return page


def bubbles(page: Any) -> list[str]:
    texts: list[str] = page.eval_on_selector_all(
        "#messages .msg:not(.typing)",
        "els => els.map(e => (e.classList.contains('me') ? 'me: ' : 'bot: ') + e.firstChild.textContent)",
    )
    return texts


def sender_id(page: Any) -> str:
    value: str = page.evaluate("localStorage.getItem('advisor.sender_id')")
    return value


def test_first_screen_greets_and_a_suggested_question_is_asked_with_a_typing_indicator(  # type: ignore[no-untyped-def]
    browser, web: WebStack, script: Script
) -> None:
    script.replies["理财产品怎么赎回？"] = [ANSWER]
    script.delays["理财产品怎么赎回？"] = 1.5
    page = open_page(browser, web)
    assert "测试银行" in page.inner_text("#greeting-zh") and "AI" in page.inner_text("#greeting-zh")
    assert "Test Bank" in page.inner_text("#greeting-en")
    assert "测试银行" in page.inner_text("header h1")
    suggested = page.locator("#suggestion-list button").all_inner_texts()
    assert suggested == ["怎么购买理财产品？", "买理财要交哪些费用？", "理财产品怎么赎回？"]  # by id
    assert page.locator("#messages .msg").count() == 0, "nothing sent before the client asks"

    page.get_by_role("button", name="理财产品怎么赎回？").click()
    page.wait_for_selector("#typing .dot")
    assert page.get_by_role("status", name=re.compile("正在输入")).is_visible()
    assert page.locator("#send").is_disabled()
    page.wait_for_selector("#messages .msg.bot[data-kind='answer']")
    assert page.locator("#typing").count() == 0 and page.locator("#send").is_enabled()
    assert page.inner_text("#messages .msg[data-kind='answer'] .cites .source") == "理财产品怎么赎回？"
    assert web.received[-1]["message"] == "理财产品怎么赎回？"
    assert web.received[-1]["sender"] == f"web:{sender_id(page)}"
    assert re.fullmatch(r"w[0-9a-f]{32}", sender_id(page))

    page.get_by_role("button", name=re.compile("推荐问题改用英文")).click()
    page.wait_for_selector("#suggestion-list[lang='en'] button")
    assert page.locator("#suggestion-list button").all_inner_texts() == ["How do I redeem a wealth product?"]
    assert page.errors == []


def test_quick_replies_render_and_tapping_one_sends_its_payload(browser, web: WebStack, script: Script) -> None:  # type: ignore[no-untyped-def]
    script.replies.update({"开始测评": [QUESTION], "18-30岁": [NEXT_QUESTION]})
    page = open_page(browser, web)
    box = page.get_by_role("textbox", name=re.compile("消息"))
    box.fill("开始测评")
    box.press("Enter")
    group = page.get_by_role("group", name=re.compile("快捷回复"))
    group.get_by_role("button", name="A. 18-30岁").wait_for()
    assert page.evaluate("document.activeElement.id") == "message", "typing keeps the focus in the box"
    assert group.get_by_role("button").all_inner_texts() == ["A. 18-30岁", "B. 31-45岁"]

    group.get_by_role("button", name="A. 18-30岁").click()
    page.wait_for_selector("text=2/6 您的投资经验？")
    assert web.received[-1]["message"] == "18-30岁", "the payload, plain text, is what is sent"
    assert bubbles(page)[-2:] == ["me: 18-30岁", "bot: 2/6 您的投资经验？"]
    spent, current = page.locator(".quick-replies").all()
    assert all(b.is_disabled() for b in spent.locator("button").all()), "answered options are spent"
    assert current.locator("button").first.is_enabled()
    assert page.evaluate("document.activeElement.textContent") == "A. 没有", "focus moves to the next options"

    current.get_by_role("button", name="B. 买过理财").click()
    page.wait_for_function("document.querySelectorAll('#messages .msg.me').length === 3")
    assert web.received[-1]["message"] == "B. 买过理财", "no payload: the title is sent"
    assert page.errors == []


def test_reload_restores_the_conversation_and_a_new_one_starts_fresh(browser, web: WebStack, script: Script) -> None:  # type: ignore[no-untyped-def]
    script.replies.update({"赎回多久到账": [ANSWER], "开始测评": [QUESTION]})
    page = open_page(browser, web)
    box = page.get_by_role("textbox", name=re.compile("消息"))
    for text in ("赎回多久到账", "开始测评"):
        box.fill(text)
        box.press("Enter")
        page.wait_for_function(f"document.querySelectorAll('#messages .msg.me').length === {1 + text.startswith('开')}")
        page.wait_for_selector("#send:not([disabled])")
    before, first_id = bubbles(page), sender_id(page)
    assert before[:2] == ["me: 赎回多久到账", "bot: 您好，我是AI智能理财助手（人工智能），不是真人。"]

    page.reload()
    page.wait_for_function(f"document.querySelectorAll('#messages .msg').length === {len(before)}")
    assert bubbles(page) == before and sender_id(page) == first_id
    assert page.inner_text(".msg[data-kind='answer'] .source") == "理财产品怎么赎回？"
    assert page.locator(".quick-replies:not(.spent) button").all_inner_texts() == ["A. 18-30岁", "B. 31-45岁"]
    assert len(web.received) == 2, "restoring sends nothing to the dialogue"

    page.get_by_role("button", name=re.compile("新对话")).click()
    assert page.locator("#messages .msg").count() == 0 and sender_id(page) != first_id
    assert page.evaluate("document.activeElement.id") == "message"
    box.fill("你好")
    box.press("Enter")
    page.wait_for_function("document.querySelectorAll('#messages .msg.bot').length === 2")
    assert web.received[-1]["sender"] == f"web:{sender_id(page)}"
    assert "不是真人" in bubbles(page)[1], "a new conversation opens with the AI disclosure again"
    page.reload()
    page.wait_for_function("document.querySelectorAll('#messages .msg').length === 3")
    assert "赎回多久到账" not in " ".join(bubbles(page)), "the old conversation is forgotten on this device"


def test_a_stored_id_that_is_not_a_random_token_is_replaced(browser, web: WebStack) -> None:  # type: ignore[no-untyped-def]
    page = open_page(browser, web)
    page.evaluate("localStorage.setItem('advisor.sender_id', 'u1')")
    page.reload()
    page.wait_for_selector("#suggestion-list button")
    assert re.fullmatch(r"w[0-9a-f]{32}", sender_id(page))


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["390px", "1366px"])
def test_layout_has_no_horizontal_overflow(browser, web: WebStack, script: Script, viewport: dict[str, int]) -> None:  # type: ignore[no-untyped-def]
    long_answer = {
        "custom": {
            "text": "详见 https://www.example-bank.com.cn/wealth/products/very/long/path/without/breaks/" + "x" * 80,
            "kind": "answer",
            "citations": [{"id": "faq-redeem-zh", "title": "赎回后钱什么时候到账？T+0和T+1是什么意思？" * 2}],
        }
    }
    script.replies.update({"长": [long_answer, QUESTION]})
    page = open_page(browser, web, viewport)
    box = page.get_by_role("textbox", name=re.compile("消息"))
    box.fill("长")
    box.press("Enter")
    page.wait_for_selector(".quick-replies button")
    width = page.evaluate("[document.documentElement.scrollWidth, document.documentElement.clientWidth]")
    assert width[0] <= width[1] == viewport["width"]
    for selector in ("header", "#composer", "#messages .msg.bot", ".quick-replies", "#suggestions"):
        box_ = page.locator(selector).first.bounding_box()
        assert box_["x"] >= 0 and box_["x"] + box_["width"] <= viewport["width"] + 0.5, selector
    assert page.locator("#send").bounding_box()["height"] >= 40, "a thumb-sized send button"
