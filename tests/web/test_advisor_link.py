"""A web hand-off shows the advisor's WeCom QR code and link: the real app (its lifespan builds the link
offers), the fake WeCom over loopback, a scripted fake Rasa. The lead is the one the dialogue records."""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import SecretStr
from sqlalchemy import select

from bot.advisor_links.models import ContactWayLink
from bot.app import create_app
from bot.campaigns.directory import known_client
from bot.db import make_engine, session_factory, transaction
from bot.knowledge.service import KnowledgeService
from bot.leads import service as leads
from bot.leads.assignment import LeadRouting
from tests.support.browser import needs_chromium
from tests.support.servers import free_port, serve
from tests.web.conftest import web_settings
from tests.web.fake_rasa import Script, TrackerFile, fake_rasa_app
from tests.wecom.conftest import wecom_settings
from tests.wecom.fakes import Failure, FakeWeCom, LoopbackServer

ADVISOR, NAME = "wang.fang", "王芳"
CONTACT_ASK = {"custom": {"kind": "contact", "zh": "好的。请留下您的称呼和手机号。", "en": "Sure."}}
LINK_OFFER = "/cgi-bin/externalcontact/add_contact_way"


@dataclass
class Chat:
    url: str
    wecom: FakeWeCom
    database_url: str

    def sender(self, *, lead: bool = True, advisor: str | None = ADVISOR) -> str:
        """A web visitor; with `lead`, the hand-off lead the dialogue records for them."""
        sender = secrets.token_hex(20)
        if lead:
            self.lead(sender, advisor=advisor)
        return sender

    def lead(self, sender: str, *, advisor: str | None = ADVISOR) -> None:
        """The hand-off lead the dialogue records for this visitor (its advisor chosen by the roster)."""
        engine = make_engine(self.database_url)
        routing = LeadRouting(roster=(advisor,) if advisor else (), directory=known_client)
        with transaction(session_factory(engine)) as session:
            leads.record_lead(
                session, client_key=f"web:{sender}", sender_id=f"web:{sender}", channel="web",
                conversation_id=f"web:{sender}", type="advisor_request", intent="request_human_advisor",
                confidence=0.95, product_codes=[], score=50, evidence="我要转人工", routing=routing,
            )  # fmt: skip
        engine.dispose()

    def say(self, sender: str, text: str) -> list[dict[str, Any]]:
        response = httpx.post(f"{self.url}/api/chat", json={"sender_id": sender, "message": text}, timeout=20)
        assert response.status_code == 200, response.text
        messages: list[dict[str, Any]] = response.json()["messages"]
        return messages


@pytest.fixture
def chat(tmp_path: Path) -> Iterator[Chat]:
    script = Script(replies={"我要转人工": [CONTACT_ASK], "好的": [{"custom": {"zh": "好的。", "en": "OK."}}]})
    fake = FakeWeCom()
    rasa_port = free_port()
    with LoopbackServer(fake.app()) as wecom_server:
        settings = web_settings(tmp_path, rasa_port)
        wecom = wecom_settings(
            wecom_server.url, state_key=SecretStr("web-state-key-0123456789"), advisor_names={ADVISOR: {"zh": NAME}}
        )
        settings = settings.model_copy(update={"channels": settings.channels.model_copy(update={"wecom": wecom})})
        settings.data_dir.mkdir(parents=True)
        KnowledgeService.from_settings(settings).ingest(settings.knowledge.source_dir, progress=False)
        tracker = TrackerFile(settings.tracker_store_path)
        with serve(fake_rasa_app(tracker, script), port=rasa_port), serve(create_app(settings)) as url:
            yield Chat(url, fake, settings.database_url)
        tracker.engine.dispose()


def _links(chat: Chat, sender: str) -> list[ContactWayLink]:
    engine = make_engine(chat.database_url)
    with session_factory(engine)() as session:
        rows = list(session.scalars(select(ContactWayLink).where(ContactWayLink.conversation_id == f"web:{sender}")))
    engine.dispose()
    return rows


def test_the_hand_off_reply_carries_the_advisors_qr_code_and_link_once(chat: Chat) -> None:
    sender = chat.sender()
    messages = chat.say(sender, "我要转人工")
    kinds = [m["kind"] for m in messages]
    assert kinds[-2:] == ["contact", "advisor_link"], messages
    link = messages[-1]
    [row] = _links(chat, sender)
    assert row.advisor_id == ADVISOR and row.qr_code and row.client_key == f"web:{sender}"
    assert link["qr_code"] == row.qr_code, "the QR code WeCom made for this conversation's link"
    assert NAME in link["text"] and row.qr_code in link["text"] and "企业微信" in link["text"]
    # The next hand-off step of the same conversation does not repeat it; nor does WeCom make another link.
    again = chat.say(sender, "我要转人工")
    assert "advisor_link" not in [m["kind"] for m in again]
    assert len(chat.wecom.calls_to(LINK_OFFER)) == 1


@pytest.mark.parametrize(("lead", "advisor"), [(False, None), (True, None)], ids=["no-lead", "no-advisor"])
def test_no_link_without_a_lead_naming_an_advisor(chat: Chat, lead: bool, advisor: str | None) -> None:
    sender = chat.sender(lead=lead, advisor=advisor)
    assert [m["kind"] for m in chat.say(sender, "我要转人工")][-1] == "contact"
    assert chat.wecom.calls_to(LINK_OFFER) == []


def test_no_link_on_other_replies(chat: Chat) -> None:
    sender = chat.sender()
    assert "advisor_link" not in [m["kind"] for m in chat.say(sender, "好的")]
    assert chat.wecom.calls_to(LINK_OFFER) == []


def test_when_wecom_fails_the_hand_off_goes_on_without_a_link(chat: Chat) -> None:
    chat.wecom.fail_next(LINK_OFFER, Failure(errcode=41054))  # the advisor has no 客户联系 permission
    sender = chat.sender()
    messages = chat.say(sender, "我要转人工")
    assert [m["kind"] for m in messages][-1] == "contact"


@needs_chromium
def test_the_chat_page_shows_the_qr_code(browser: Any, chat: Chat) -> None:
    page = browser.new_page(viewport={"width": 390, "height": 844}, locale="zh-CN")
    page.goto(chat.url + "/")
    page.wait_for_selector("#suggestion-list button")
    sender: str = page.evaluate("localStorage.getItem('advisor.sender_id')")
    chat.lead(sender)
    box = page.get_by_role("textbox", name=re.compile("消息"))
    box.fill("我要转人工")
    box.press("Enter")
    qr = page.locator(".msg.bot[data-kind='advisor_link'] a.advisor-qr img")
    qr.wait_for(state="attached")
    [row] = _links(chat, sender)
    assert qr.get_attribute("src") == row.qr_code and qr.get_attribute("alt") == "理财经理的企业微信二维码"
    assert page.locator(".msg.bot[data-kind='advisor_link'] a.advisor-qr").get_attribute("href") == row.qr_code
    assert NAME in page.locator(".msg.bot[data-kind='advisor_link'] .text").inner_text()
