"""Property: whatever the client list, the refusals and the answers, a text goes only to a client the campaign
rules let us call, who said yes before any no, was not on the do-not-contact list when it went, and only once."""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from datetime import timedelta
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.advisor_links.links import AdvisorLinks, LinkPolicy
from bot.advisor_links.offers import LinkOffers
from bot.advisor_links.state import StateSigner
from bot.advisor_links.texts import LinkTexts
from bot.campaigns.dialer import run_campaign
from bot.campaigns.models import CampaignAttempt, CampaignClient
from bot.contacts.service import opt_out
from bot.db import make_engine, session_factory, transaction
from bot.messaging.service import TextMessages
from bot.settings import Settings
from tests.advisor_links.book_api import BookApi
from tests.advisor_links.conftest import STATE_KEY
from tests.campaigns.conftest import T0
from tests.campaigns.fakes import FakeClock, FakeProvider, client, make_campaign
from tests.messaging.fakes import RecordingProvider

COUNTRIES = {"+852": "9", "+65": "8", "+86": "13"}
people = st.lists(
    st.fixed_dictionaries(
        {
            # Weighted towards clients who can be called, so refusals and answers are put to the test.
            "consent": st.sampled_from([True, True, True, False]),
            "dormant": st.sampled_from([True, True, True, False]),
            "country": st.sampled_from(["+852", "+852", "+65", "+86"]),
            # none; before: refused before the campaign; during: refused after the call, before answering;
            # after: refused after answering
            "dnc": st.sampled_from(["none", "before", "during", "during", "after"]),
            "answers": st.lists(st.booleans(), min_size=0, max_size=3),  # yes/no, repeated (retries, second tries)
        }
    ),
    min_size=1,
    max_size=10,
)


def _phone(country: str, i: int) -> str:
    return f"{country}{COUNTRIES[country]}{i:07d}" if country != "+86" else f"+86138{i:08d}"


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(people=people)
def test_only_a_callable_client_who_said_yes_and_never_refused_gets_one_text(
    people: list[dict[str, Any]], _migrated_db: Path, settings: Settings, texts: LinkTexts
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "advisor.db"
        shutil.copyfile(_migrated_db, path)
        engine = make_engine(f"sqlite:///{path}")
        try:
            asyncio.run(_check(session_factory(engine), people, settings, texts, Path(tmp)))
        finally:
            engine.dispose()


async def _check(
    sessions: sessionmaker[Session], people: list[dict[str, Any]], settings: Settings, texts: LinkTexts, tmp: Path
) -> None:
    settings = settings.model_copy(update={"campaigns": settings.campaigns.model_copy(update={"rest_dates": []})})
    rows = []
    for i, person in enumerate(people):
        last = (T0.date() - timedelta(days=400 if person["dormant"] else 10)).isoformat()
        consent = {"consent_call": "yes" if person["consent"] else "no", "consent_date": "2025-01-01"}
        rows.append(client(f"p{i}", phone=_phone(person["country"], i), last_activity_date=last, **consent))
    with transaction(sessions) as session:
        for i, person in enumerate(people):
            if person["dnc"] == "before":
                opt_out(session, client_key=f"p{i}", channel="web", evidence="不要营销")
    created = make_campaign(sessions, settings, tmp / "c.csv", rows, as_of=T0, control_share=0.2)
    clock = FakeClock(T0)
    await run_campaign(sessions=sessions, provider=FakeProvider(sessions, clock), settings=settings,
                       campaign_id=created.campaign_id, clock=clock, progress=False)  # fmt: skip

    provider = RecordingProvider()
    policy = LinkPolicy(quota=1000, ttl=timedelta(days=30), skip_verify=True, cleanup_every=timedelta(hours=1))
    links = AdvisorLinks(sessions=sessions, api=BookApi(), signer=StateSigner(STATE_KEY), policy=policy)
    offers = LinkOffers(sessions=sessions, links=links, texts=texts,
                        messages=TextMessages(sessions=sessions, provider=provider))  # fmt: skip
    with sessions() as session:
        called = {
            a.client_id: a.id
            for a in session.scalars(select(CampaignAttempt).where(CampaignAttempt.campaign_id == created.campaign_id))
        }
        arms = {c.client_id: c.arm for c in session.scalars(select(CampaignClient))}
    for i, person in enumerate(people):
        cid = f"p{i}"
        if cid not in called:
            continue
        for n, yes in enumerate(person["answers"]):
            if person["dnc"] == "during" and n == 0:  # refused after the call was placed, before answering
                with transaction(sessions) as session:
                    opt_out(session, client_key="voice:x", phone=_phone(person["country"], i), channel="voice",
                            evidence="别再联系我")  # fmt: skip
            await offers.answer_on_call(attempt_id=called[cid], call_sid=f"CA{i}", accepted=yes, words="…")
        if person["dnc"] == "after":
            with transaction(sessions) as session:
                opt_out(session, client_key=cid, channel="voice", evidence="不要了")

    texted = [to for to, _, _ in provider.sent]
    assert len(texted) == len(set(texted)), "a client got two texts"
    by_phone = {_phone(p["country"], i): (f"p{i}", p) for i, p in enumerate(people)}
    for to in texted:
        cid, person = by_phone[to]
        assert cid in called and arms[cid] == "treatment", "texted a client the campaign did not call"
        assert person["consent"] and person["dormant"], "texted a client the campaign rules exclude"
        assert person["answers"] and person["answers"][0], "texted a client whose first answer was no (or none)"
        assert person["dnc"] in ("none", "after"), "texted a client on the do-not-contact list"
        assert not to.startswith("+86"), "texted a number the provider may not text"
    for to, (cid, person) in by_phone.items():
        reachable = cid in called and person["dnc"] in ("none", "after") and not to.startswith("+86")
        if reachable and person["answers"] and person["answers"][0]:
            assert to in texted, f"{cid} said yes and may be texted, yet got nothing"
