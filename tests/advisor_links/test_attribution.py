"""Friend-adds through the signed WeCom callback: attributed to the right client and arm, recorded once,
the lead linked, the welcome sent once inside WeCom's 20 s; forged callbacks and states record nothing."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from bot.advisor_links.attribution import FriendAdds
from bot.advisor_links.links import AdvisorLinks, LinkPolicy
from bot.advisor_links.models import FriendAdd
from bot.advisor_links.state import StateSigner
from bot.advisor_links.texts import LinkTexts
from bot.campaigns.directory import known_client
from bot.campaigns.models import CampaignClient, CampaignOutcome
from bot.channels.wecom import WeComRuntime
from bot.channels.wecom.simulator import contact_added_xml
from bot.db import make_engine, session_factory, transaction
from bot.leads import service as leads
from bot.leads.assignment import LeadRouting
from bot.leads.models import Lead
from tests.advisor_links.conftest import Campaign, Now, make_campaign
from tests.wecom.conftest import Clock, MakeRuntime, asgi_client
from tests.wecom.fakes import FakeWeCom
from tests.wecom.helpers import PATH, sign

WELCOME = "/cgi-bin/externalcontact/send_welcome_msg"
_nonces = itertools.count(1000)


@dataclass
class World:
    runtime: WeComRuntime
    http: httpx.AsyncClient
    links: AdvisorLinks
    campaign: Campaign
    sessions: sessionmaker[Session]
    wecom: FakeWeCom
    clock: Clock

    async def post(self, event_xml: str, *, nonce: str | None = None) -> httpx.Response:
        """POST the event as WeCom does (signed and encrypted), then let the welcome go out."""
        callback = sign(event_xml, timestamp=self.clock.now, nonce=nonce or str(next(_nonces)))
        response = await self.http.post(PATH, params=callback.params, content=callback.body)
        await self.runtime.wait_idle()
        return response

    async def add(self, client_id: str, external_userid: str) -> httpx.Response:
        link = await self.links.for_attempt(self.campaign.attempts[client_id])
        return await self.post(self.wecom.contact_added(link.config_id, external_userid))

    def friend_adds(self) -> list[FriendAdd]:
        with self.sessions() as session:
            return list(session.scalars(select(FriendAdd).order_by(FriendAdd.id)))

    def outcomes(self) -> list[tuple[str, str, str, float]]:
        with self.sessions() as session:
            rows = session.scalars(select(CampaignOutcome).order_by(CampaignOutcome.id))
            return [(o.client_id, o.name, o.source, o.value) for o in rows]


@pytest.fixture
async def world(
    make_runtime: MakeRuntime, sessions: sessionmaker[Session], signer: StateSigner, texts: LinkTexts, now: Now,
    wecom_api: FakeWeCom, clock: Clock,
) -> AsyncIterator[World]:  # fmt: skip
    campaign = make_campaign(sessions, treated=3, control=2)
    with transaction(sessions) as session:
        session.execute(update(CampaignClient).where(CampaignClient.client_id == "C002").values(language="en"))
        leads.record_lead(
            session, client_key="C000", sender_id="CA-call-1", channel="voice", conversation_id="voice:CA-call-1",
            type="product_interest", intent="interested", confidence=0.9, product_codes=[], score=60,
            evidence="我对天天宝感兴趣",
        )  # fmt: skip
    routing = LeadRouting(directory=known_client)
    handler = FriendAdds(sessions=sessions, signer=signer, texts=texts, routing=routing, clock=now)
    runtime = await make_runtime(contacts=handler)
    assert runtime.client is not None
    policy = LinkPolicy(quota=100, ttl=timedelta(days=30), skip_verify=True, cleanup_every=timedelta(hours=1))
    links = AdvisorLinks(sessions=sessions, api=runtime.client, signer=signer, policy=policy, clock=now)
    async with asgi_client(runtime) as http:
        yield World(runtime, http, links, campaign, sessions, wecom_api, clock)


async def test_an_add_is_attributed_to_its_client_arm_and_advisor_and_recorded_as_a_callback_outcome(
    world: World,
) -> None:
    response = await world.add("C000", "wmCLIENT0")
    assert (response.status_code, response.text) == (200, "")
    [add] = world.friend_adds()
    assert (add.campaign_id, add.client_id, add.arm, add.advisor_id, add.external_userid) == (
        world.campaign.id, "C000", "treatment", "wang.fang", "wmCLIENT0",
    )  # fmt: skip
    assert world.outcomes() == [("C000", "wecom_added", "callback", 1.0)]
    with world.sessions() as session:
        lead = session.scalar(select(Lead).where(Lead.client_key == "C000"))
    assert lead is not None and lead.wecom_external_userid == "wmCLIENT0"  # the advisor can now reach them
    assert add.leads_linked == 1 and add.outcome_recorded


async def test_the_welcome_is_sent_once_with_the_code_naming_bank_advisor_and_ai_with_the_disclosures(
    world: World,
) -> None:
    await world.add("C000", "wmCLIENT0")
    [welcome] = world.wecom.calls_to(WELCOME)
    [code] = [w.code for w in world.wecom.contacts.accepted_welcomes()]
    assert welcome.body["welcome_code"] == code
    text = welcome.body["text"]["content"]
    for part in ("示例银行", "王芳", "人工智能（AI）", "理财非存款、产品有风险、投资须谨慎", "400-000-0000"):
        assert part in text
    assert world.friend_adds()[0].welcome_status == "sent"
    await world.add("C002", "wmCLIENT2")  # an English-speaking client
    english = world.wecom.calls_to(WELCOME)[-1].body["text"]["content"]
    assert "Demo Bank" in english and "Fang Wang" in english and "artificial intelligence" in english


async def test_a_repeated_or_retried_callback_changes_nothing_and_sends_no_second_welcome(world: World) -> None:
    link = await world.links.for_attempt(world.campaign.attempts["C000"])
    event = world.wecom.contact_added(link.config_id, "wmCLIENT0")
    await world.post(event, nonce="777")
    again = await world.post(event, nonce="777")  # the same request replayed
    retried = await world.post(event, nonce="778")  # WeCom's retry of the same event
    assert again.status_code == retried.status_code == 200
    assert len(world.friend_adds()) == 1 and len(world.outcomes()) == 1
    assert len(world.wecom.calls_to(WELCOME)) == 1
    # Even a new event for the same link and user (the client re-adds later) is no second outcome or welcome.
    await world.post(world.wecom.contact_added(link.config_id, "wmCLIENT0"))
    assert len(world.friend_adds()) == 1 and len(world.outcomes()) == 1 and len(world.wecom.calls_to(WELCOME)) == 1


async def test_two_clients_adding_the_same_advisor_in_the_same_second_are_both_recorded(world: World) -> None:
    first = await world.links.for_attempt(world.campaign.attempts["C000"])
    second = await world.links.for_attempt(world.campaign.attempts["C001"])
    events = [world.wecom.contact_added(first.config_id, "wmA"), world.wecom.contact_added(second.config_id, "wmB")]
    # Both come from "sys" at the same CreateTime: only the users tell them apart.
    events[1] = events[1].replace(events[1].split("<CreateTime>")[1].split("<")[0],
                                  events[0].split("<CreateTime>")[1].split("<")[0])  # fmt: skip
    for event in events:
        assert (await world.post(event)).status_code == 200
    assert sorted(a.client_id or "" for a in world.friend_adds()) == ["C000", "C001"]
    assert len(world.wecom.calls_to(WELCOME)) == 2


async def test_a_forged_or_badly_signed_callback_is_refused_and_records_nothing(world: World) -> None:
    link = await world.links.for_attempt(world.campaign.attempts["C000"])
    callback = sign(world.wecom.contact_added(link.config_id, "wmX"), timestamp=world.clock.now, nonce="31337")
    forged = {**callback.params, "msg_signature": "0" * 40}
    response = await world.http.post(PATH, params=forged, content=callback.body)
    assert response.status_code == 403
    stale = sign(world.wecom.contact_added(link.config_id, "wmX"), timestamp=world.clock.now - 3600, nonce="31338")
    assert (await world.http.post(PATH, params=stale.params, content=stale.body)).status_code == 403
    await world.runtime.wait_idle()
    assert world.friend_adds() == [] and world.outcomes() == [] and world.wecom.calls_to(WELCOME) == []


async def test_a_state_that_is_not_ours_edited_or_unknown_records_nothing(world: World, signer: StateSigner) -> None:
    link = await world.links.for_attempt(world.campaign.attempts["C000"])
    event = world.wecom.contact_added(link.config_id, "wmX")
    unknown = signer.sign("a", 999_999)  # correctly signed, but no such link
    for state in ("teststate", link.state[:-1] + ("A" if link.state[-1] != "A" else "B"), unknown, ""):
        response = await world.post(event.replace(link.state, state))
        assert response.status_code == 200  # acknowledged (WeCom would retry otherwise), and ignored
    assert world.friend_adds() == [] and world.outcomes() == [] and world.wecom.calls_to(WELCOME) == []


async def test_no_welcome_after_wecoms_20_seconds(world: World) -> None:
    link = await world.links.for_attempt(world.campaign.attempts["C000"])
    event = world.wecom.contact_added(link.config_id, "wmLATE")
    world.clock.advance(25)  # the callback is handled 25 s after the add (inside the replay window)
    await world.post(event)
    [add] = world.friend_adds()
    assert add.welcome_status == "expired" and world.wecom.calls_to(WELCOME) == []
    assert world.outcomes() == [("C000", "wecom_added", "callback", 1.0)]  # the add itself still counts


async def test_a_conversation_link_links_the_lead_but_is_no_campaign_outcome(world: World) -> None:
    with transaction(world.sessions) as session:
        leads.record_lead(
            session, client_key="web:visitor-1", sender_id="visitor-1", channel="web", conversation_id="web:visitor-1",
            type="advisor_request", intent="handoff", confidence=0.9, product_codes=[], score=70, evidence="找理财经理",
        )  # fmt: skip
    link = await world.links.for_conversation(
        conversation_id="web:visitor-1", client_key="web:visitor-1", advisor_id="wang.fang", language="en"
    )
    await world.post(world.wecom.contact_added(link.config_id, "wmWEB"))
    [add] = world.friend_adds()
    assert (add.campaign_id, add.arm, add.leads_linked, add.language) == (None, None, 1, "en")
    assert world.outcomes() == []
    assert "Demo Bank" in world.wecom.calls_to(WELCOME)[0].body["text"]["content"]


async def test_a_welcome_the_guard_blocks_is_never_sent(
    make_runtime: MakeRuntime, sessions: sessionmaker[Session], signer: StateSigner, now: Now, wecom_api: FakeWeCom,
    clock: Clock,
) -> None:  # fmt: skip
    from bot.advisor_links.texts import Identity

    # an advisor "name" that makes a forbidden promise: the filled-in welcome fails the guard
    identity = Identity(bank_name="示例银行", bank_name_en="Demo Bank", hotline="400-000-0000",
                        advisor_names={"wang.fang": {"zh": "王芳（保本保收益）"}})  # fmt: skip
    texts = LinkTexts.load(identity)
    handler = FriendAdds(sessions=sessions, signer=signer, texts=texts, routing=LeadRouting(), clock=now)
    runtime = await make_runtime(contacts=handler)
    assert runtime.client is not None
    policy = LinkPolicy(quota=10, ttl=timedelta(days=30), skip_verify=True, cleanup_every=timedelta(hours=1))
    campaign = make_campaign(sessions, treated=1, control=0)
    links = AdvisorLinks(sessions=sessions, api=runtime.client, signer=signer, policy=policy, clock=now)
    link = await links.for_attempt(campaign.attempts["C000"])
    async with asgi_client(runtime) as http:
        callback = sign(wecom_api.contact_added(link.config_id, "wmB"), timestamp=clock.now, nonce="4242")
        assert (await http.post(PATH, params=callback.params, content=callback.body)).status_code == 200
    await runtime.wait_idle()
    with sessions() as session:
        [add] = session.scalars(select(FriendAdd)).all()
    assert add.welcome_status == "blocked" and "guarantee" in (add.welcome_detail or "")
    assert wecom_api.calls_to(WELCOME) == [] and add.outcome_recorded  # the add itself still counts


async def test_an_add_that_cannot_be_recorded_is_kept_in_the_channel_audit(
    make_runtime: MakeRuntime, signer: StateSigner, texts: LinkTexts, wecom_api: FakeWeCom, clock: Clock,
    tmp_path: Path,
) -> None:  # fmt: skip
    broken = session_factory(make_engine(f"sqlite:///{tmp_path / 'no-tables.db'}"))  # the database lost its tables
    handler = FriendAdds(sessions=broken, signer=signer, texts=texts, routing=LeadRouting())
    runtime = await make_runtime(contacts=handler)
    event = contact_added_xml(corp_id="ww1436e0e65a779aee", user_id="wang.fang", external_userid="wmLOST",
                              state=signer.sign("a", 1), welcome_code="W1", create_time=int(clock.now))  # fmt: skip
    async with asgi_client(runtime) as http:
        callback = sign(event, timestamp=clock.now, nonce="5151")
        assert (await http.post(PATH, params=callback.params, content=callback.body)).status_code == 200
    assert runtime.store is not None
    [entry] = await runtime.store.audit_entries("contact_add_unrecorded")
    assert entry["external_userid"] == "wmLOST" and signer.sign("a", 1) in entry["detail"]
    assert wecom_api.calls_to(WELCOME) == []
