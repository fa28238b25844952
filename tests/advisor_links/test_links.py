"""Advisor links against the loopback fake WeCom: persisted config_id, reuse, quota, cleanup, update."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.advisor_links.links import LinkQuotaReached
from bot.advisor_links.models import ContactWayLink
from bot.advisor_links.state import StateRef, StateSigner
from bot.channels.wecom.errors import DeliveryUnknown, WeComApiError
from bot.db import transaction
from tests.advisor_links.conftest import MakeLinks, Now, make_campaign
from tests.campaigns.conftest import add_attempt
from tests.wecom.fakes import Failure, FakeWeCom

ADD = "/cgi-bin/externalcontact/add_contact_way"


def _rows(sessions: sessionmaker[Session]) -> list[ContactWayLink]:
    with sessions() as session:
        return list(session.scalars(select(ContactWayLink).order_by(ContactWayLink.id)))


async def test_an_attempts_link_is_its_advisors_qr_with_a_signed_state_and_a_kept_config_id(
    sessions: sessionmaker[Session], make_links: MakeLinks, wecom_api: FakeWeCom, signer: StateSigner
) -> None:
    campaign = make_campaign(sessions)
    attempt = campaign.attempts["C000"]
    link = await make_links().for_attempt(attempt)
    [call] = wecom_api.calls_to(ADD)
    assert call.body == {"type": 1, "scene": 2, "skip_verify": True, "state": link.state, "user": ["wang.fang"],
                         "remark": f"campaign {campaign.id} C000"}  # fmt: skip
    assert signer.verify(link.state) == StateRef("a", attempt) and len(link.state) <= 30
    [way] = wecom_api.contacts.live()
    assert (way.config_id, way.state, way.user) == (link.config_id, link.state, "wang.fang")
    assert link.url == wecom_api.contacts.qr_url(way.config_id) and not link.reused
    [row] = _rows(sessions)
    assert (row.config_id, row.status, row.campaign_id, row.client_id, row.language) == (
        way.config_id, "active", campaign.id, "C000", "zh",
    )  # fmt: skip


async def test_the_same_client_reuses_its_link_across_attempts_and_requests(
    sessions: sessionmaker[Session], make_links: MakeLinks, wecom_api: FakeWeCom
) -> None:
    campaign = make_campaign(sessions)
    links = make_links()
    first = await links.for_attempt(campaign.attempts["C000"])
    again = await links.for_attempt(campaign.attempts["C000"])
    with transaction(sessions) as session:
        client = session.merge(campaign.clients["C000"])
        second_attempt = add_attempt(session, client, attempt_no=2, state="completed").id
    later = await links.for_attempt(second_attempt)
    other = await links.for_attempt(campaign.attempts["C001"])
    assert again.config_id == later.config_id == first.config_id and again.reused and later.reused
    assert other.config_id != first.config_id
    assert len(wecom_api.calls_to(ADD)) == 2


async def test_two_requests_at_once_for_one_attempt_make_one_link(
    sessions: sessionmaker[Session], make_links: MakeLinks, wecom_api: FakeWeCom
) -> None:
    campaign = make_campaign(sessions)
    wecom_api.fail_next(ADD, Failure(delay_s=0.3, then_succeed=True))  # the first create is slow
    links = make_links()
    first, second = await asyncio.gather(*(links.for_attempt(campaign.attempts["C000"]) for _ in range(2)))
    assert first.config_id == second.config_id
    assert len(wecom_api.calls_to(ADD)) == 1 and len(wecom_api.contacts.live()) == 1


async def test_conversation_links_are_reused_within_a_conversation_only(
    sessions: sessionmaker[Session], make_links: MakeLinks, wecom_api: FakeWeCom, signer: StateSigner
) -> None:
    links = make_links()
    web = await links.for_conversation(conversation_id="web:abc", client_key="web:abc", advisor_id="wang.fang")
    again = await links.for_conversation(conversation_id="web:abc", client_key="web:abc", advisor_id="wang.fang")
    other = await links.for_conversation(conversation_id="wecom:wm1", client_key="wecom:wm1", advisor_id="wang.fang")
    assert again.config_id == web.config_id and again.reused
    assert other.config_id != web.config_id
    assert signer.verify(web.state) == StateRef("c", web.id) and signer.verify(other.state) == StateRef("c", other.id)
    assert len(wecom_api.calls_to(ADD)) == 2


async def test_the_quota_is_counted_refused_clearly_and_freed_by_cleaning_up_expired_links(
    sessions: sessionmaker[Session], make_links: MakeLinks, wecom_api: FakeWeCom, now: Now
) -> None:
    campaign = make_campaign(sessions)
    links = make_links(quota=2)
    await links.for_attempt(campaign.attempts["C000"])
    await links.for_attempt(campaign.attempts["C001"])
    assert (await links.usage()).live == 2
    with pytest.raises(LinkQuotaReached, match=r"2 of 2 in use \(channels.wecom.contact_way_quota\)"):
        await links.for_attempt(campaign.attempts["C002"])
    assert len(wecom_api.calls_to(ADD)) == 2 and len(_rows(sessions)) == 2  # nothing half-made
    now.advance(days=31)  # both links have expired
    link = await links.for_attempt(campaign.attempts["C002"])
    assert [w.config_id for w in wecom_api.contacts.live()] == [link.config_id]
    statuses = {r.client_id: r.status for r in _rows(sessions)}
    assert statuses == {"C000": "deleted", "C001": "deleted", "C002": "active"}
    usage = await links.usage()
    assert (usage.live, usage.expired) == (1, 0)


async def test_expired_links_are_not_reused(
    sessions: sessionmaker[Session], make_links: MakeLinks, wecom_api: FakeWeCom, now: Now
) -> None:
    links = make_links()
    first = await links.for_conversation(conversation_id="web:abc", client_key="web:abc", advisor_id="wang.fang")
    now.advance(days=31)
    fresh = await links.for_conversation(conversation_id="web:abc", client_key="web:abc", advisor_id="wang.fang")
    assert fresh.config_id != first.config_id and not fresh.reused
    assert [w.config_id for w in wecom_api.contacts.live()] == [fresh.config_id]  # cleaned up on the way


async def test_a_refused_create_frees_the_state_and_an_ambiguous_one_is_never_retried_blindly(
    sessions: sessionmaker[Session], make_links: MakeLinks, wecom_api: FakeWeCom
) -> None:
    campaign = make_campaign(sessions)
    links = make_links()
    wecom_api.fail_next(ADD, Failure(errcode=40058))
    with pytest.raises(WeComApiError):
        await links.for_attempt(campaign.attempts["C000"])
    link = await links.for_attempt(campaign.attempts["C000"])  # WeCom made nothing: a new try is safe
    assert link.config_id and [r.status for r in _rows(sessions)] == ["failed", "active"]
    wecom_api.fail_next(ADD, Failure(status=502))
    with pytest.raises(DeliveryUnknown):
        await links.for_attempt(campaign.attempts["C001"])
    assert len(wecom_api.calls_to(ADD)) == 3  # the ambiguous one was not repeated
    assert _rows(sessions)[-1].status == "unknown" and (await links.usage()).live == 2  # it may exist: counted


async def test_reassigning_an_advisor_updates_their_links_in_wecom(
    sessions: sessionmaker[Session], make_links: MakeLinks, wecom_api: FakeWeCom
) -> None:
    links = make_links()
    link = await links.for_conversation(conversation_id="web:abc", client_key="web:abc", advisor_id="wang.fang")
    assert await links.reassign(from_advisor="wang.fang", to_advisor="li.lei") == 1
    [call] = wecom_api.calls_to("/cgi-bin/externalcontact/update_contact_way")
    assert call.body == {"config_id": link.config_id, "user": ["li.lei"]}
    assert wecom_api.contacts.ways[link.config_id].user == "li.lei"
    assert _rows(sessions)[0].advisor_id == "li.lei"
