"""Builds the advisor-link services from settings (the app's lifespan and `advisor wecom` call this).

Off (None) unless WeCom is enabled and `channels.wecom.state_key` is set: without the key no state can be
signed or verified, so no link is made and no friend-add attributed.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.orm import Session, sessionmaker

from bot.advisor_links.attribution import FriendAdds
from bot.advisor_links.links import AdvisorLinks, ContactWayApi, LinkPolicy
from bot.advisor_links.offers import LinkOffers
from bot.advisor_links.state import StateSigner
from bot.advisor_links.texts import Identity, LinkTexts
from bot.campaigns.directory import known_client
from bot.leads.assignment import LeadRouting
from bot.messaging.provider import TextProvider
from bot.messaging.service import TextMessages
from bot.settings import Settings


@dataclass(frozen=True)
class LinkServices:
    """The friend-add handler (needed before WeCom starts) and a builder for links and offers (after)."""

    settings: Settings
    sessions: sessionmaker[Session]
    signer: StateSigner
    texts: LinkTexts
    friend_adds: FriendAdds

    def links(self, api: ContactWayApi) -> AdvisorLinks:
        wecom = self.settings.channels.wecom
        policy = LinkPolicy(
            quota=wecom.contact_way_quota, ttl=timedelta(days=wecom.contact_way_ttl_days),
            skip_verify=wecom.contact_way_skip_verify, cleanup_every=timedelta(seconds=wecom.contact_way_cleanup_s),
        )  # fmt: skip
        return AdvisorLinks(sessions=self.sessions, api=api, signer=self.signer, policy=policy)

    def offers(self, *, api: ContactWayApi | None, provider: TextProvider | None) -> LinkOffers | None:
        """Offers over a running WeCom client (None when the channel did not start one)."""
        if api is None:
            return None
        messages = TextMessages(sessions=self.sessions, provider=provider)
        return LinkOffers(sessions=self.sessions, links=self.links(api), texts=self.texts, messages=messages,
                          routing=self.friend_adds.routing)  # fmt: skip


async def link_services(settings: Settings, *, sessions: sessionmaker[Session]) -> LinkServices | None:
    """None unless WeCom and its state_key are configured; ConfigError for a bad key or a text the guard blocks."""
    wecom = settings.channels.wecom
    if not wecom.enabled or wecom.state_key is None:
        return None
    signer = StateSigner(wecom.state_key.get_secret_value())
    app = settings.app
    identity = Identity(
        bank_name=app.bank_name, bank_name_en=app.bank_name_en, hotline=app.hotline, advisor_names=wecom.advisor_names
    )
    texts = await asyncio.to_thread(LinkTexts.load, identity)
    routing = LeadRouting.from_settings(settings.leads.assignment, directory=known_client)
    handler = FriendAdds(sessions=sessions, signer=signer, texts=texts, routing=routing)
    return LinkServices(settings=settings, sessions=sessions, signer=signer, texts=texts, friend_adds=handler)
