"""A 微信客服 hand-off sends the advisor's WeCom link in the same reply (one of WeCom's 5 messages), once per
conversation: the real kf service and link offers, the fake WeCom and a scripted Rasa over loopback."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import pytest
from sqlalchemy.orm import Session, sessionmaker

from bot.advisor_links.links import AdvisorLinks, LinkPolicy
from bot.advisor_links.offers import LinkOffers
from bot.advisor_links.state import StateSigner
from bot.advisor_links.texts import LinkTexts
from bot.campaigns.directory import known_client
from bot.channels.wecom import WeComRuntime
from bot.db import transaction
from bot.leads import service as leads
from bot.leads.assignment import LeadRouting
from bot.messaging.service import TextMessages
from tests.wecom.conftest import Clock, MakeRuntime, asgi_client
from tests.wecom.fakes import FakeRasa, FakeWeCom, customer_text
from tests.wecom.helpers import PATH, kf_notice, sign

HANDOFF = {"custom": {"kind": "handoff", "zh": "好的，已为您登记，理财经理会通过企业微信与您联系。", "en": "Done."}}
TRANS = "/cgi-bin/kf/service_state/trans"
_ids = itertools.count(1)


@pytest.fixture
async def kf(
    make_runtime: MakeRuntime, sessions: sessionmaker[Session], signer: StateSigner, texts: LinkTexts
) -> AsyncIterator[tuple[WeComRuntime, httpx.AsyncClient]]:
    runtime = await make_runtime()
    assert runtime.kf is not None and runtime.client is not None
    policy = LinkPolicy(quota=100, ttl=timedelta(days=30), skip_verify=True, cleanup_every=timedelta(hours=1))
    links = AdvisorLinks(sessions=sessions, api=runtime.client, signer=signer, policy=policy)
    runtime.kf.handoff_links = LinkOffers(
        sessions=sessions, links=links, texts=texts, messages=TextMessages(sessions=sessions, provider=None)
    )
    async with asgi_client(runtime) as http:
        yield runtime, http


def _lead(sessions: sessionmaker[Session], user: str) -> None:
    """The hand-off lead the dialogue records for this WeCom user (its advisor chosen by the roster)."""
    with transaction(sessions) as session:
        leads.record_lead(
            session, client_key=f"wecom:{user}", sender_id=f"wecom:{user}", channel="wecom",
            conversation_id=f"wecom:{user}", type="advisor_request", intent="request_human_advisor", confidence=0.95,
            product_codes=[], score=50, evidence="找理财经理", routing=LeadRouting(roster=("wang.fang",),
            directory=known_client),
        )  # fmt: skip


async def _say(kf: tuple[WeComRuntime, httpx.AsyncClient], wecom: FakeWeCom, clock: Clock, user: str) -> None:
    runtime, http = kf
    n = next(_ids)
    wecom.kf_messages.append(customer_text(f"m{n}", user, "帮我找理财经理", send_time=clock.now))
    callback = sign(kf_notice(token=f"T{n}", create_time=clock.now), timestamp=clock.now, nonce=str(1000 + n))
    assert (await http.post(PATH, params=callback.params, content=callback.body)).status_code == 200
    await runtime.wait_idle()


async def test_the_hand_off_reply_carries_the_advisors_link(
    kf: tuple[WeComRuntime, httpx.AsyncClient], sessions: sessionmaker[Session], wecom_api: FakeWeCom,
    rasa_api: FakeRasa, clock: Clock,
) -> None:  # fmt: skip
    rasa_api.replies = [HANDOFF]
    _lead(sessions, "wm1")
    await _say(kf, wecom_api, clock, "wm1")
    [sent] = wecom_api.sent_texts()
    [way] = wecom_api.contacts.live()
    assert sent.startswith(HANDOFF["custom"]["zh"]), "one message: the reply, then the link"
    assert "王芳" in sent and wecom_api.contacts.qr_url(way.config_id) in sent and way.user == "wang.fang"
    assert len(wecom_api.calls_to(TRANS)) == 1, "and the session goes to a person"


async def test_no_link_without_a_lead_naming_an_advisor(
    kf: tuple[WeComRuntime, httpx.AsyncClient], wecom_api: FakeWeCom, rasa_api: FakeRasa, clock: Clock
) -> None:
    rasa_api.replies = [HANDOFF]
    await _say(kf, wecom_api, clock, "wm2")
    assert wecom_api.sent_texts() == [HANDOFF["custom"]["zh"]]
    assert wecom_api.contacts.live() == []
