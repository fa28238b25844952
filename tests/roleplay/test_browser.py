"""The /training page in a real headless browser (Debian's chromium driven by playwright-python), behind
the console's login."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from bot.db import make_engine, session_factory
from bot.settings import Settings
from tests.roleplay.support import OPS, build_schema, training_app
from tests.support.browser import needs_chromium
from tests.support.servers import serve

pytestmark = needs_chromium
GOOD = [
    "刘阿姨您好，我是您的理财经理小王。理解您的想法，现在的理财都是净值型的，不保本，想要保本可以考虑大额存单。",
    "想了解一下，这笔钱您有什么打算？家里有没有可能急用钱，比如看病？",
    "明白了，谢谢您。请问您的风险测评结果是什么类型？能接受多大的亏损？",
    "建议您把备用的钱放在朝夕这样能随时取用的产品里，风险等级R1。理财非存款、产品有风险、投资须谨慎。",
    "谢谢您的信任，有问题随时联系我，再见！",
]


@pytest.fixture
def base_url(rp_settings: Settings) -> Iterator[str]:
    build_schema(rp_settings.database_url)
    engine = make_engine(rp_settings.database_url)
    with serve(training_app(rp_settings, session_factory(engine))) as url:
        yield url
    engine.dispose()


def _login(page, base_url: str, user: tuple[str, str], target: str = "/training") -> None:  # type: ignore[no-untyped-def]
    """Open a training page logged out: the console's login form comes first, then the page."""
    page.context.clear_cookies()
    page.goto(base_url + target)
    page.wait_for_selector("#login-form")
    page.fill("#username", user[0])
    page.fill("#password", user[1])
    page.click("#login-btn")
    page.wait_for_url(base_url + target)


def _trainee(advisor_id: str) -> tuple[str, str]:
    return f"trainee_{advisor_id}", "training pass phrase"


def _practise(page, base_url: str, advisor: str, messages: list[str]) -> None:  # type: ignore[no-untyped-def]
    _login(page, base_url, _trainee(advisor))
    page.wait_for_selector("#persona option[value='retiree_guaranteed']", state="attached")
    page.wait_for_function("id => document.querySelector('#advisor-id').textContent === id", arg=advisor)
    page.select_option("#persona", "retiree_guaranteed")
    assert "退休" in page.inner_text("#persona-card")
    page.fill("#seed", "7")
    page.click("#start-btn")
    page.wait_for_selector(".msg.client")
    assert "定期" in page.inner_text("#log")
    for count, text in enumerate(messages, start=2):
        page.fill("#message", text)
        page.press("#message", "Enter")
        page.wait_for_function("n => document.querySelectorAll('.msg.client').length >= n", arg=count)
    page.click("#end-btn")
    page.wait_for_selector("#verdict[data-passed]")


def test_practise_score_and_team_view(browser, base_url: str) -> None:  # type: ignore[no-untyped-def]
    page = browser.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))

    _practise(page, base_url, "a1", GOOD)
    assert page.get_attribute("#verdict", "data-passed") == "true"
    assert page.locator(".criterion").count() == 7
    assert page.get_attribute(".criterion[data-id='compliance']", "data-passed") == "true"
    assert re.search(r"/training/sessions/[0-9a-f]{32}$", page.url)
    assert "刘阿姨您好" in (page.text_content("#transcript") or "")

    # reload: the stored report renders again, from the API
    page.reload()
    page.wait_for_selector("#verdict[data-passed='true']")

    bad = [GOOD[0], "阿姨放心，这款理财保本，收益稳稳的。", GOOD[-1]]
    _practise(page, base_url, "a2", bad)
    assert page.get_attribute("#verdict", "data-passed") == "false"
    compliance = page.locator(".criterion[data-id='compliance']")
    assert compliance.get_attribute("data-passed") == "false"
    assert "这款理财保本" in compliance.inner_text()

    _login(page, base_url, OPS, "/training/team")  # the team's averages are for operations staff
    page.wait_for_selector("#team-criteria tbody tr")
    assert page.locator("#team-criteria tbody tr").count() == 7
    assert "guarantee" in page.inner_text("#team-violations")
    assert "a1" in page.inner_text("#team-advisors") and "a2" in page.inner_text("#team-advisors")
    page.fill("#team-filter", "a1")
    page.click("#team-btn")
    page.wait_for_function("() => !document.querySelector('#team-violations').innerText.includes('guarantee')")
    assert errors == []


def test_usable_on_a_phone(browser, base_url: str) -> None:  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport={"width": 375, "height": 740}, is_mobile=True, has_touch=True)
    page = context.new_page()
    _login(page, base_url, _trainee("a3"))
    page.wait_for_selector("#persona option", state="attached")
    overflow = "() => document.documentElement.scrollWidth > document.documentElement.clientWidth"
    assert not page.evaluate(overflow)
    page.tap("#start-btn")
    page.wait_for_selector(".msg.client")
    for selector in ("#message", "#send", "#end-btn"):
        box = page.locator(selector).bounding_box()
        assert box and box["y"] + box["height"] <= 740 and box["x"] >= 0, selector
    assert page.locator("#send").bounding_box()["height"] >= 40  # finger-sized
    assert not page.evaluate(overflow)
    context.close()


def test_errors_are_shown_not_swallowed(browser, base_url: str) -> None:  # type: ignore[no-untyped-def]
    page = browser.new_page()
    _login(page, base_url, _trainee("a1"), "/training/sessions/" + "0" * 32)
    page.wait_for_selector("#error:not([hidden])")
    assert "unknown training session" in page.inner_text("#error")
