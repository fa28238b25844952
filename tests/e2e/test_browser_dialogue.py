"""The chat page in headless chromium against the real stack (app, Rasa, actions, knowledge base): the
questionnaire's tap-to-answer buttons, its pending step after a reload, and a web hand-off that collects
a name and a mobile with consent (issues 13 and 15)."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.e2e.test_dialogue_flows import leads_for
from tests.support.browser import needs_chromium
from tests.support.stack import Stack

pytestmark = [pytest.mark.e2e, needs_chromium]


def open_chat(browser: Any, stack: Stack) -> Any:
    page = browser.new_page(viewport={"width": 390, "height": 844}, locale="zh-CN")
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.errors = errors
    page.goto(stack.app_url + "/")
    page.wait_for_selector("#message")
    return page


def send(page: Any, text: str) -> None:
    before = page.locator("#messages .msg.me").count()
    box = page.get_by_role("textbox", name=re.compile("消息"))
    box.fill(text)
    box.press("Enter")
    page.wait_for_function(f"document.querySelectorAll('#messages .msg.me').length === {before + 1}")
    page.wait_for_selector("#send:not([disabled])")


def last_bot(page: Any) -> str:
    text: str = page.locator("#messages .msg.bot").last.inner_text()
    return text


def sender(page: Any) -> str:
    value: str = page.evaluate("localStorage.getItem('advisor.sender_id')")
    return value


def test_the_questionnaire_is_answered_by_tapping_and_its_step_survives_a_reload(browser, stack: Stack) -> None:  # type: ignore[no-untyped-def]
    page = open_chat(browser, stack)
    send(page, "我想做风险测评 现在开始")
    options = page.locator(".quick-replies:not(.spent)").last
    options.get_by_role("button", name="B. 31-45岁").wait_for()
    options.get_by_role("button", name="B. 31-45岁").click()
    page.wait_for_selector("text=2/6 您的投资经验？")
    assert page.locator("#messages .msg.me").last.inner_text() == "31-45岁", "the option's text is sent"

    page.reload()
    page.wait_for_selector("text=2/6 您的投资经验？")
    pending = page.locator(".quick-replies:not(.spent) button").all_inner_texts()
    assert pending[0] == "A. 没有，只存过款", "after a reload the pending step and its options are back"
    send(page, "你好")
    reply = page.locator("#messages .msg.bot").all_inner_texts()[-2:]
    assert "您好" in reply[0] and reply[1].startswith("2/6"), "a greeting mid-form: greeted, then the same step"
    assert page.errors == []


def test_a_web_hand_off_collects_contact_details_with_consent(browser, stack: Stack) -> None:  # type: ignore[no-untyped-def]
    page = open_chat(browser, stack)
    send(page, "我要转人工")
    asked = last_bot(page)
    assert "手机号" in asked and "400-888-6666" in asked
    send(page, "陈静 139 0000 1234")
    shown = last_bot(page)
    assert "+86139****1234" in shown and "仅用于" in shown
    page.locator(".quick-replies:not(.spent)").last.get_by_role("button", name="同意", exact=True).click()
    page.wait_for_selector("text=尾号1234")
    (lead,) = leads_for(stack, sender(page))
    assert (lead["contact_name"], lead["contact_phone"]) == ("陈静", "+8613900001234")
    assert "仅用于" in lead["consent_text"] and lead["consent_at"]
    assert page.errors == []
