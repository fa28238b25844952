"""The offer of the advisor's link: a yes texts it once with its consent, a no is kept, chats get the link."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker

from bot.advisor_links.links import AdvisorLinks, LinkPolicy
from bot.advisor_links.models import ContactWayLink
from bot.advisor_links.offers import LinkOffers
from bot.advisor_links.state import StateSigner
from bot.advisor_links.texts import LinkTexts
from bot.campaigns.directory import known_client
from bot.campaigns.models import CampaignClient
from bot.db import transaction
from bot.errors import InputError
from bot.leads.assignment import LeadRouting
from bot.messaging.models import TextMessage
from bot.messaging.service import TextMessages
from tests.advisor_links.book_api import BookApi
from tests.advisor_links.conftest import Now, make_campaign
from tests.messaging.fakes import RecordingProvider


@pytest.fixture
def api() -> BookApi:
    return BookApi()


@pytest.fixture
def provider() -> RecordingProvider:
    return RecordingProvider()


def make_offers(
    sessions: sessionmaker[Session], api: BookApi, provider: RecordingProvider, signer: StateSigner, texts: LinkTexts,
    now: Now, *, quota: int = 100, roster: tuple[str, ...] = (),
) -> LinkOffers:  # fmt: skip
    policy = LinkPolicy(quota=quota, ttl=timedelta(days=30), skip_verify=True, cleanup_every=timedelta(hours=1))
    links = AdvisorLinks(sessions=sessions, api=api, signer=signer, policy=policy, clock=now)
    messages = TextMessages(sessions=sessions, provider=provider, clock=now)
    routing = LeadRouting(roster=roster, directory=known_client)
    return LinkOffers(sessions=sessions, links=links, texts=texts, messages=messages, routing=routing, clock=now)


@pytest.fixture
def offers(sessions: sessionmaker[Session], api: BookApi, provider: RecordingProvider, signer: StateSigner,
           texts: LinkTexts, now: Now) -> LinkOffers:  # fmt: skip
    return make_offers(sessions, api, provider, signer, texts, now)


def _count(sessions: sessionmaker[Session], model: type) -> int:
    with sessions() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


async def test_a_yes_texts_the_advisors_link_once_with_what_the_client_agreed_to(
    offers: LinkOffers, sessions: sessionmaker[Session], provider: RecordingProvider, api: BookApi, now: Now
) -> None:
    campaign = make_campaign(sessions)
    attempt = campaign.attempts["C000"]
    result = await offers.answer_on_call(attempt_id=attempt, call_sid="CA1", accepted=True, words="好的，发给我吧")
    assert result.status == "sent" and result.link is not None and result.text is not None
    [(to, body, _)] = provider.sent
    [way] = api.book.live()
    assert to == campaign.clients["C000"].phone and api.book.qr_url(way.config_id) in body and "王芳" in body
    assert (
        result.text.consent_text
        == offers.offer_text("zh", "wang.fang")
        == ("需要我把您的专属理财经理王芳的企业微信二维码链接用短信发给您吗？添加后可以随时找理财经理咨询。")
    )
    assert (result.text.consent_evidence, result.text.consent_conversation, result.text.consent_at) == (
        "好的，发给我吧", "voice:CA1", now.at,
    )  # fmt: skip
    again = await offers.answer_on_call(attempt_id=attempt, call_sid="CA1", accepted=True, words="好的")
    assert again.status == "sent" and again.text is not None and again.text.id == result.text.id
    assert len(provider.sent) == 1 and _count(sessions, ContactWayLink) == 1


async def test_a_no_is_recorded_makes_no_link_and_blocks_a_later_yes_in_the_campaign(
    offers: LinkOffers, sessions: sessionmaker[Session], provider: RecordingProvider
) -> None:
    campaign = make_campaign(sessions)
    attempt = campaign.attempts["C001"]
    declined = await offers.answer_on_call(attempt_id=attempt, call_sid="CA2", accepted=False, words="不用了，谢谢")
    assert declined.status == "declined" and declined.link is None
    later = await offers.answer_on_call(attempt_id=attempt, call_sid="CA2", accepted=True, words="还是发吧")
    assert later.status == "declined" and provider.sent == [] and _count(sessions, ContactWayLink) == 0
    assert _count(sessions, TextMessage) == 1


async def test_without_a_link_nothing_is_sent_and_the_reason_is_given(
    sessions: sessionmaker[Session], api: BookApi, provider: RecordingProvider, signer: StateSigner,
    texts: LinkTexts, now: Now,
) -> None:  # fmt: skip
    campaign = make_campaign(sessions)
    offers = make_offers(sessions, api, provider, signer, texts, now, quota=1)
    await offers.answer_on_call(attempt_id=campaign.attempts["C000"], call_sid="CA1", accepted=True, words="好")
    full = await offers.answer_on_call(attempt_id=campaign.attempts["C001"], call_sid="CA3", accepted=True, words="好")
    assert full.status == "link_unavailable" and full.reason and "contact_way_quota" in full.reason
    assert len(provider.sent) == 1


async def test_an_unknown_attempt_is_an_input_error(offers: LinkOffers) -> None:
    with pytest.raises(InputError, match="no call attempt 999"):
        await offers.answer_on_call(attempt_id=999, call_sid="CA9", accepted=True, words="好")


async def test_a_chat_gets_the_link_and_the_line_that_carries_it(offers: LinkOffers, api: BookApi) -> None:
    chat = await offers.for_chat(conversation_id="web:abc", client_key="web:abc", advisor_id="wang.fang",
                                 language="en")  # fmt: skip
    [way] = api.book.live()
    assert chat.link.url == api.book.qr_url(way.config_id)
    assert (
        chat.text.startswith("You can add Fang Wang, your dedicated advisor, on WeCom") and chat.link.url in chat.text
    )


async def test_the_offer_names_the_clients_advisor_or_the_one_the_lead_rules_choose_or_is_not_made(
    sessions: sessionmaker[Session], api: BookApi, provider: RecordingProvider, signer: StateSigner,
    texts: LinkTexts, now: Now,
) -> None:  # fmt: skip
    campaign = make_campaign(sessions)
    with transaction(sessions) as session:
        session.execute(update(CampaignClient).where(CampaignClient.client_id == "C001").values(advisor_id=None))
    offers = make_offers(sessions, api, provider, signer, texts, now)
    offer = await offers.offer_for_call(campaign.attempts["C000"])
    assert offer is not None and (offer.advisor_id, offer.language) == ("wang.fang", "zh") and "王芳" in offer.text
    assert await offers.offer_for_call(campaign.attempts["C001"]) is None  # nobody to name: do not offer
    nobody = await offers.answer_on_call(
        attempt_id=campaign.attempts["C001"], call_sid="CA1", accepted=True, words="好"
    )
    assert nobody.status == "link_unavailable" and "no advisor" in (nobody.reason or "") and provider.sent == []
    with_roster = make_offers(sessions, api, provider, signer, texts, now, roster=("li.lei",))
    offer = await with_roster.offer_for_call(campaign.attempts["C001"])
    assert offer is not None and offer.advisor_id == "li.lei"
    result = await with_roster.answer_on_call(attempt_id=offer.attempt_id, call_sid="CA1", accepted=True, words="好",
                                              advisor_id=offer.advisor_id)  # fmt: skip
    assert result.status == "sent" and result.link is not None and result.link.advisor_id == "li.lei"
    assert [w.user for w in api.book.live()] == ["li.lei"]
