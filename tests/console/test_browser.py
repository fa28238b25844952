"""The console in a real headless browser (Debian's chromium driven by playwright-python)."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from bot.core.audit import AuditEntry
from bot.db import make_engine, session_factory
from bot.leads import service as leads
from bot.roleplay.service import TrainingService
from bot.settings import Settings
from tests.console.support import (
    ADMIN,
    VIEWER,
    add_campaign_data,
    add_lead,
    build_schema,
    console_app,
    console_settings,
)
from tests.support.browser import needs_chromium
from tests.support.servers import serve

pytestmark = needs_chromium
PRACTICE = {
    "t-1": [
        "刘阿姨您好，我是您的理财经理小王。理解您的想法，现在的理财都是净值型的，不保本，想要保本可以考虑大额存单。",
        "想了解一下，这笔钱您有什么打算？家里有没有可能急用钱，比如看病？",
        "建议您把备用的钱放在朝夕这样能随时取用的产品里，风险等级R1。理财非存款、产品有风险、投资须谨慎。",
        "谢谢您的信任，有问题随时联系我，再见！",
    ],
    "t-2": ["阿姨放心，这款理财保本，收益稳稳的。", "再见！"],
}


@dataclass
class Console:
    url: str
    settings: Settings
    sessions: sessionmaker[Session]
    lead_ids: list[int]
    campaign_id: int


async def _practise(training: TrainingService) -> None:
    for advisor, messages in PRACTICE.items():
        view = await training.start(persona_id="retiree_guaranteed", advisor_id=advisor, seed=7)
        for text in messages:
            await training.say(view.session_id, text)
        await training.end(view.session_id)


def _seed(settings: Settings, sessions: sessionmaker[Session]) -> list[int]:
    ids = [
        add_lead(sessions).id,
        add_lead(
            sessions, client_key="c-2", type="complaint", product_codes=[], channel="wecom", evidence="投诉：没人回电"
        ).id,
        add_lead(
            sessions, client_key="c-3", type="callback_request", product_codes=[], channel="voice", advisor_id="wang"
        ).id,
    ]
    audit = settings.data_dir / "audit" / "compliance.jsonl"
    audit.parent.mkdir(parents=True, exist_ok=True)
    entry = AuditEntry.for_text(
        "这款产品保本保收益，联系13800138000", conversation_id="web:x", rule="guarantee", keep_text=True
    )
    audit.write_text(entry.model_copy(update={"source": "gateway.web"}).model_dump_json() + "\n", encoding="utf-8")
    return ids


def _run(coroutine: Coroutine[Any, Any, None]) -> None:
    """In a thread of its own: playwright's sync API keeps an event loop running in this one."""
    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, coroutine).result()


@pytest.fixture
def console(tmp_path: Path) -> Iterator[Console]:
    settings = console_settings(tmp_path)
    build_schema(settings.database_url)
    engine = make_engine(settings.database_url)
    sessions = session_factory(engine)
    ids = _seed(settings, sessions)
    campaign_id = add_campaign_data(sessions)
    training = TrainingService.from_settings(
        settings.model_copy(update={"llm": settings.llm.model_copy(update={"provider": None})}), sessions=sessions
    )
    _run(_practise(training))
    with serve(console_app(settings, sessions, training)) as url:
        yield Console(url, settings, sessions, ids, campaign_id)
    _run(training.aclose())
    engine.dispose()


def _login(page, console: Console, user: tuple[str, str], path: str = "/console/leads") -> None:  # type: ignore[no-untyped-def]
    page.goto(console.url + path)
    assert "/console/login" in page.url, "login required first"
    page.fill("#username", user[0])
    page.fill("#password", user[1])
    page.click("#login-btn")
    page.wait_for_url(f"**{path}*")


def test_login_is_required_and_every_page_loads(browser, console: Console) -> None:  # type: ignore[no-untyped-def]
    page = browser.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    failed: list[str] = []
    page.on(
        "response", lambda r: failed.append(f"{r.status} {r.url}") if r.status >= 400 and "/console/" in r.url else None
    )
    page.goto(console.url + "/console/audit")
    assert "/console/login" in page.url
    page.fill("#username", VIEWER[0])
    page.fill("#password", "wrong")
    page.click("#login-btn")
    assert "用户名或密码错误" in page.inner_text("#login-error")
    _login(page, console, VIEWER, "/console/audit")
    assert page.inner_text("#whoami").startswith(VIEWER[0])
    expected = {
        "leads": ("线索", "#leads-table"),
        "campaigns": ("营销活动", "#campaigns-table"),
        "knowledge": ("知识库", "#approved-table"),
        "audit": ("合规审计", "#audit-table"),
        "training": ("培训", "#criteria-table"),
    }
    for nav, (title, selector) in expected.items():
        page.click(f"nav a[data-nav='{nav}']")
        page.wait_for_selector(selector)
        assert title in page.inner_text("main h2")
        assert page.get_attribute(f"nav a[data-nav='{nav}']", "class") == "active"
    page.click("nav a[data-nav='audit']")
    assert "原文仅管理员可见" in page.inner_text("main") and "这款产品保本" not in page.inner_text("#audit-table")
    assert errors == []
    assert failed == [f"401 {console.url}/console/login"]  # the wrong password, nothing else


def test_lead_filters_work(browser, console: Console) -> None:  # type: ignore[no-untyped-def]
    page = browser.new_page()
    _login(page, console, VIEWER)
    assert page.get_attribute("#lead-count", "data-total") == "3"
    assert page.locator(".status-form").count() == 0, "viewers cannot change leads"
    page.select_option("#f-type", "complaint")
    page.click("#filter-btn")
    page.wait_for_selector("#lead-count[data-total='1']")
    assert "投诉：没人回电" in page.inner_text("#leads-table")
    assert "type=complaint" in (page.get_attribute("#export-link", "href") or "")
    with page.expect_download() as download:
        page.click("#export-link")
    exported = Path(download.value.path()).read_text(encoding="utf-8-sig")
    assert "投诉：没人回电" in exported and "WM001" not in exported
    page.select_option("#f-type", "")
    page.select_option("#f-channel", "voice")
    page.select_option("#f-advisor", "wang")
    page.click("#filter-btn")
    page.wait_for_selector("#lead-count[data-total='1']")
    assert page.locator("#leads-table tbody tr").get_attribute("data-lead") == str(console.lead_ids[2])
    page.select_option("#f-advisor", "")
    page.select_option("#f-channel", "")
    page.fill("#f-to", "2020-01-01")
    page.click("#filter-btn")
    page.wait_for_selector("#no-leads")


def test_a_status_change_persists(browser, console: Console) -> None:  # type: ignore[no-untyped-def]
    page = browser.new_page()
    _login(page, console, ADMIN)
    lead_id = console.lead_ids[1]
    row = page.locator(f"tr[data-lead='{lead_id}']")
    assert row.get_attribute("data-status") == "new"
    row.locator("select[name='status']").select_option("contacted")
    row.locator("button[type='submit']").click()
    page.wait_for_selector("#flash")
    assert f"#{lead_id}" in page.inner_text("#flash")
    assert page.locator(f"tr[data-lead='{lead_id}']").get_attribute("data-status") == "contacted"
    with console.sessions() as session:
        assert leads.get_lead(session, lead_id=lead_id).status == "contacted"
    page.reload()
    assert page.locator(f"tr[data-lead='{lead_id}']").get_attribute("data-status") == "contacted"
    # a filtered view stays filtered after the change
    page.goto(console.url + "/console/leads?status=contacted")
    row = page.locator(f"tr[data-lead='{lead_id}']")
    row.locator("select[name='status']").select_option("converted")
    row.locator("button[type='submit']").click()
    page.wait_for_selector("#flash")
    assert "status=contacted" in page.url and page.get_attribute("#lead-count", "data-total") == "0"
    with console.sessions() as session:
        assert leads.get_lead(session, lead_id=lead_id).status == "converted"


def test_charts_render_and_admins_see_audit_text(browser, console: Console) -> None:  # type: ignore[no-untyped-def]
    page = browser.new_page()
    _login(page, console, ADMIN, "/console/training")
    page.wait_for_selector("#chart-criteria[data-rendered='true'] svg.main-svg")
    assert page.locator("#chart-criteria .bars path").count() >= 7
    assert page.locator("#worst-criteria li").count() == 3
    assert "guarantee" in page.inner_text("#violations-table")
    page.click("nav a[data-nav='audit']")
    page.wait_for_selector("#chart-rules[data-rendered='true'] svg.main-svg")
    text = page.inner_text("#audit-table")
    assert "这款产品保本保收益" in text and "13800138000" not in text


def test_campaign_board_charts_funnel_conversion_and_uplift(browser, console: Console) -> None:  # type: ignore[no-untyped-def]
    page = browser.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    _login(page, console, VIEWER, "/console/campaigns")
    page.click(f"tr[data-campaign='{console.campaign_id}'] a")
    for key in ("funnel", "conversion", "uplift", "segments", "uplift_segments"):
        page.wait_for_selector(f"#chart-{key}[data-rendered='true'] svg.main-svg")
    assert page.locator("#chart-uplift .errorbar").count() == 3  # all treatment, script_a, script_b
    assert page.locator("#chart-uplift_segments .errorbar").count() == 2  # one per segment
    assert page.locator("#chart-funnel .funnellayer .trace").count() == 3  # one trace per arm
    overall = page.locator("#uplift-table tr[data-treatment='treatment'][data-segment='']")
    assert "+17.50 pp" in overall.inner_text() and "显著提升 Significant uplift" in overall.inner_text()
    assert overall.get_attribute("data-verdict") == "up"
    # labels first, ids as secondary text; a per-segment comparison with 20 a side is "too few to tell"
    segment = page.locator("#uplift-table tr[data-segment='dormant_high_aum']")
    assert "高资产睡眠客户" in segment.inner_text() and segment.get_attribute("data-verdict") == "too_few"
    assert "样本不足" in segment.inner_text()
    page.select_option("#f-outcome", "purchased")
    page.click("#outcome-btn")
    page.wait_for_selector("#chart-uplift[data-rendered='true'] svg.main-svg")
    assert "outcome=purchased" in page.url
    assert errors == []


def test_the_board_shows_the_wecom_add_rate_per_arm_next_to_conversion(browser, console: Console) -> None:  # type: ignore[no-untyped-def]
    page = browser.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    _login(page, console, VIEWER, f"/console/campaigns/{console.campaign_id}")
    section = page.locator("#alongside-wecom_added")
    assert "添加理财经理企业微信：各组比率" in section.locator("h3").inner_text()
    # 40 clients per arm: 10 and 6 added through the link offered on the call, 2 control clients imported
    rates = {arm: page.locator(f"#rate-arms-wecom_added tr[data-arm='{arm}'] td.rate").inner_text()
             for arm in ("script_a", "script_b", "control")}  # fmt: skip
    assert rates == {"script_a": "25.0%", "script_b": "15.0%", "control": "5.0%"}
    control = page.locator("#rate-arms-wecom_added tr[data-arm='control']")
    assert control.get_attribute("data-sources") == "imported"  # callbacks never count for control ...
    assert "回调归因 attributed callbacks 1 不计入 not counted" in control.inner_text()  # ... and it says so
    treated = page.locator("#rate-arms-wecom_added tr[data-arm='script_a']")
    assert treated.get_attribute("data-sources") == "imported,callback"
    sources = page.inner_text("#alongside-wecom_added-sources")
    assert "处理组 treatment = 导入数据 imported + 回调归因 attributed callbacks" in sources
    assert "对照组 control = 导入数据 imported" in sources.split("·")[1]
    overall = page.locator("#rate-uplift-wecom_added tr[data-treatment='treatment'][data-segment='']")
    assert "+15.00 pp" in overall.inner_text() and overall.get_attribute("data-verdict") == "up"
    page.wait_for_selector("#chart-rate_wecom_added[data-rendered='true'] svg.main-svg")
    assert page.locator("#chart-rate_wecom_added .bars path").count() == 3  # one bar per arm
    page.wait_for_selector("#chart-rate_segments_wecom_added[data-rendered='true'] svg.main-svg")
    assert page.locator("#rate-segments-wecom_added tr[data-segment='dormant_high_aum']").count() == 3
    assert errors == []
