"""Leads with contact and advisor, the opt-out register, and the console on a phone, in headless chromium."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from bot.campaigns.directory import known_client
from bot.contacts.service import is_do_not_contact, opt_out
from bot.db import make_engine, session_factory, transaction
from bot.leads.assignment import LeadRouting
from bot.leads.contact import attach_contact
from bot.settings import AssignmentSettings, Settings
from tests.campaigns.conftest import add_campaign, add_client
from tests.console.support import ADMIN, VIEWER, add_lead, build_schema, console_app, console_settings
from tests.support.browser import needs_chromium
from tests.support.servers import serve

pytestmark = needs_chromium
CONSENT = "我同意理财经理通过此手机号联系我 / I agree to be contacted on this number"


@dataclass
class Console:
    url: str
    settings: Settings
    sessions: sessionmaker[Session]
    voice_lead: int
    web_lead: int


def _seed(sessions: sessionmaker[Session]) -> tuple[int, int]:
    routing = LeadRouting.from_settings(AssignmentSettings(roster=["li.lei"]), directory=known_client)
    with transaction(sessions) as session:
        campaign = add_campaign(session)
        add_client(session, campaign, client_id="C00042", name="李雷", phone="+85291234567", advisor_id="wang.fang")
    # a voice lead: the client row names the advisor and gives the number
    voice = add_lead(
        sessions, client_key="C00042", channel="voice", conversation_id="voice:CA1", type="advisor_request",
        product_codes=[], evidence="帮我转人工", routing=routing,
    )  # fmt: skip
    # a web lead: the client typed name and mobile with consent; the roster assigns an advisor
    web = add_lead(sessions, client_key="web:v9", channel="web", routing=routing)
    with transaction(sessions) as session:
        attach_contact(
            session, client_key="web:v9", name="王芳", phone="138 1234 5678", consent_text=CONSENT,
            consented_at=datetime(2026, 12, 1, 2, 30, tzinfo=UTC),
        )  # fmt: skip
        opt_out(session, client_key="web:anon", channel="web", evidence="不要再给我发了",
                now=datetime(2026, 12, 2, 1, 0, tzinfo=UTC))  # fmt: skip
        opt_out(session, client_key="C00077", phone="+85290000077", channel="voice", evidence="别再打了",
                now=datetime(2026, 12, 3, 6, 15, tzinfo=UTC))  # fmt: skip
    return voice.id, web.id


@pytest.fixture
def console(tmp_path: Path) -> Iterator[Console]:
    settings = console_settings(tmp_path)
    build_schema(settings.database_url)
    engine = make_engine(settings.database_url)
    sessions = session_factory(engine)
    voice, web = _seed(sessions)
    with serve(console_app(settings, sessions)) as url:
        yield Console(url, settings, sessions, voice, web)
    engine.dispose()


def _login(page, console: Console, user: tuple[str, str], path: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(console.url + path)
    page.fill("#username", user[0])
    page.fill("#password", user[1])
    page.click("#login-btn")
    page.wait_for_url(f"**{path}*")


def test_a_lead_shows_contact_and_advisor(browser, console: Console) -> None:  # type: ignore[no-untyped-def]
    page = browser.new_page()
    _login(page, console, ADMIN, "/console/leads")
    voice = page.locator(f"tr[data-lead='{console.voice_lead}']")
    assert "李雷" in voice.locator("[data-field=contact]").inner_text()
    assert "+85291234567" in voice.locator("[data-field=contact]").inner_text()
    assert "客户号 client C00042" in voice.inner_text()
    assert "wang.fang" in voice.locator("[data-field=advisor]").inner_text()
    assert "客户名单" in voice.locator("[data-field=advisor]").inner_text()  # taken from the client list
    web = page.locator(f"tr[data-lead='{console.web_lead}']")
    assert "王芳" in web.inner_text() and "+8613812345678" in web.inner_text()
    assert "li.lei" in web.locator("[data-field=advisor]").inner_text()
    assert "UTC+08:00" in web.locator("[data-field=contact]").inner_text()  # consent time, labelled with its zone
    # filtering by the advisor now finds the voice lead
    page.select_option("#f-advisor", "wang.fang")
    page.click("#filter-btn")
    page.wait_for_selector("#lead-count[data-total='1']")
    assert page.locator("#leads-table tbody tr").get_attribute("data-lead") == str(console.voice_lead)

    viewer = browser.new_page()
    _login(viewer, console, VIEWER, "/console/leads")
    html = viewer.content()
    assert "+85291234567" not in html and "13812345678" not in html and "王芳" not in html
    assert "王*" in viewer.locator(f"tr[data-lead='{console.web_lead}']").inner_text()
    assert "5678" in viewer.locator(f"tr[data-lead='{console.web_lead}']").inner_text()


def test_the_opt_out_list_export_and_recording_one_by_phone(browser, console: Console) -> None:  # type: ignore[no-untyped-def]
    viewer = browser.new_page()
    _login(viewer, console, VIEWER, "/console/opt-outs")
    rows = viewer.locator("#optouts-table tbody tr")
    assert rows.count() == 2 and viewer.locator("#record-form").count() == 0  # viewers cannot record
    newest = rows.nth(0)
    assert newest.get_attribute("data-covers") == "phone" and "电话 Voice" in newest.inner_text()
    assert "2026-12-03 14:15" in newest.inner_text() and "UTC+08:00" in newest.inner_text()
    assert "+85290000077" not in viewer.content()  # masked for viewers
    assert rows.nth(1).get_attribute("data-covers") == "identity" and "仅该渠道身份" in rows.nth(1).inner_text()
    with viewer.expect_download() as download:
        viewer.click("#optout-export")
    exported = Path(download.value.path()).read_text(encoding="utf-8-sig")
    assert "web:anon" in exported and "C00077" in exported and "+85290000077" not in exported

    admin = browser.new_page()
    _login(admin, console, ADMIN, "/console/opt-outs")
    admin.click("#record-optout summary")
    admin.fill("#r-phone", "139-1234-0000")
    admin.fill("#r-evidence", "客户致电客服热线，要求不再接收营销电话")
    admin.fill("#r-phone", "1391234000")  # one digit short: refused, and what was typed is kept
    admin.click("#record-btn")
    admin.wait_for_selector("#record-error")
    assert "手机号无效" in admin.inner_text("#record-error")
    assert admin.input_value("#r-evidence") == "客户致电客服热线，要求不再接收营销电话"
    admin.fill("#r-phone", "139 1234 0000")
    admin.click("#record-btn")
    admin.wait_for_selector("#flash")
    assert "0000" in admin.inner_text("#flash")
    first = admin.locator("#optouts-table tbody tr").nth(0)
    assert first.get_attribute("data-channel") == "phone" and "+8613912340000" in first.inner_text()
    assert "console:ops-admin" in first.inner_text()
    with console.sessions() as session:  # the number is now blocked for every campaign's checks
        assert is_do_not_contact(session, client_key="anyone", phone="+8613912340000")


def test_on_a_phone_the_navigation_is_compact_and_there_is_a_favicon(browser, console: Console) -> None:  # type: ignore[no-untyped-def]
    page = browser.new_page(viewport={"width": 390, "height": 844})
    _login(page, console, VIEWER, "/console/leads")
    nav = page.locator("#nav").bounding_box()
    assert nav is not None and nav["height"] < 48  # one row, not a stack of six links
    assert page.locator("header").bounding_box()["height"] < 120  # type: ignore[index]
    assert page.evaluate("document.documentElement.scrollWidth") <= 390  # nothing pushes the page sideways
    for nav_item in ("leads", "campaigns", "opt-outs", "knowledge", "audit", "training"):
        assert page.locator(f"nav a[data-nav='{nav_item}']").is_visible()
    assert "All times are Asia/Shanghai UTC+08" in page.inner_text("#zone-note")
    icon = page.locator("link[rel=icon]").get_attribute("href")
    response = page.request.get(console.url + (icon or ""))
    assert response.status == 200 and response.headers["content-type"].startswith("image/svg+xml")
