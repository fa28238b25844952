"""Friend-adds through our links: attributed to campaign, client, arm and advisor, recorded once.

For each add_external_contact event (bot.channels.wecom.external): the state is verified (a forged,
edited or unknown state records nothing), then in one transaction
  - the friend-add is stored, once per link and WeCom user (a repeated callback changes nothing);
  - a campaign client's add is the outcome `wecom_added` (source `callback`, the client's arm) in the
    same outcomes store imported outcomes use, dated by the bank's calendar day;
  - the client's open leads get the WeCom user, so the advisor can reach them there;
  - a welcome is claimed when WeCom gave a WelcomeCode: once, with the approved text in the client's
    language (the channel sends it within 20 s).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TypeVar

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from bot.advisor_links.models import ContactWayLink, FriendAdd
from bot.advisor_links.state import StateSigner
from bot.advisor_links.texts import GuardBlocked, LinkTexts
from bot.campaigns.models import Campaign, CampaignClient
from bot.campaigns.outcomes import record_outcome
from bot.campaigns.rules import CampaignRules, zone
from bot.channels.wecom.external import ContactAdded, WelcomeJob
from bot.contacts.portable import insert_or_ignore
from bot.db import transaction, utcnow
from bot.leads.assignment import LeadRouting
from bot.leads.contact import link_client

logger = logging.getLogger(__name__)
T = TypeVar("T")
OUTCOME = "wecom_added"


class FriendAdds:
    """Implements the channel's ContactAddedHandler on the app's database."""

    def __init__(
        self,
        *,
        sessions: sessionmaker[Session],
        signer: StateSigner,
        texts: LinkTexts,
        routing: LeadRouting,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._sessions = sessions
        self._signer = signer
        self._texts = texts
        self.routing = routing
        self._clock = clock

    async def _tx(self, work: Callable[[Session], T]) -> T:
        def run() -> T:
            with transaction(self._sessions) as session:
                return work(session)

        return await asyncio.to_thread(run)

    async def contact_added(self, event: ContactAdded) -> WelcomeJob | None:
        """Attribute and record the add; a WelcomeJob the first time, when WeCom gave a WelcomeCode."""
        ref = self._signer.verify(event.state)
        if ref is None:
            logger.info("friend-add to %s with a state that is not ours: nothing recorded", event.advisor_id)
            return None
        return await self._tx(lambda session: self._record(session, event, ref.kind, ref.id))

    def _record(self, session: Session, event: ContactAdded, kind: str, ref_id: int) -> WelcomeJob | None:
        link = self._link(session, kind, ref_id, event.state or "")
        if link is None:
            logger.warning("friend-add with a valid state %s but no such link: nothing recorded", event.state)
            return None
        client = self._campaign_client(session, link)
        added_at = datetime.fromtimestamp(event.created_at, UTC)
        language = client.language if client is not None else link.language
        values = {
            "link_id": link.id, "advisor_id": event.advisor_id[:64], "external_userid": event.external_userid[:128],
            "campaign_id": link.campaign_id if client else None, "client_id": link.client_id if client else None,
            "client_key": link.client_key, "arm": client.arm if client else None,
            "segment": client.segment if client else None, "language": "en" if language == "en" else "zh",
            "added_at": added_at, "recorded_at": self._clock(), "outcome_recorded": False, "leads_linked": 0,
            "welcome_status": "sending" if event.welcome_code else "none",
        }  # fmt: skip
        if not insert_or_ignore(session, FriendAdd, values, conflict=("link_id", "external_userid")):
            logger.info("friend-add %s via link %s already recorded: nothing changes", event.external_userid, link.id)
            return None
        row = session.scalar(
            select(FriendAdd).where(
                FriendAdd.link_id == link.id, FriendAdd.external_userid == values["external_userid"]
            )
        )
        assert row is not None
        if client is not None:
            # Dated by the campaign's own calendar (its frozen rules), as the report's outcome window is.
            campaign = session.get(Campaign, client.campaign_id)
            assert campaign is not None
            day = added_at.astimezone(zone(CampaignRules.model_validate(campaign.rules).default_timezone)).date()
            row.outcome_recorded = record_outcome(
                session, campaign_id=client.campaign_id, client_id=client.client_id, name=OUTCOME,
                activity_date=day, source="callback",
            )  # fmt: skip
        if link.client_key:
            linked = link_client(
                session, client_key=link.client_key, routing=self.routing, wecom_external_userid=event.external_userid
            )
            row.leads_linked = len(linked)
        logger.info(
            "friend-add attributed: link %s advisor %s campaign %s arm %s", link.id, event.advisor_id,
            row.campaign_id, row.arm,
        )  # fmt: skip
        if event.welcome_code is None:
            return None
        return self._welcome(row, event.welcome_code, event.created_at)

    def _welcome(self, row: FriendAdd, code: str, created_at: int) -> WelcomeJob | None:
        try:
            text = self._texts.render("welcome", "en" if row.language == "en" else "zh", advisor_id=row.advisor_id)
        except GuardBlocked as exc:
            logger.error("welcome for friend-add %s not sent: %s", row.id, exc)
            row.welcome_status, row.welcome_detail = "blocked", str(exc)
            return None
        return WelcomeJob(ref=row.id, welcome_code=code, text=text, created_at=created_at)

    async def welcome_result(self, job: WelcomeJob, *, status: str, detail: str | None = None) -> None:
        """Record what became of the welcome (sent, expired, failed, unknown)."""
        values = {"welcome_status": status, "welcome_detail": detail}
        await self._tx(lambda s: s.execute(update(FriendAdd).where(FriendAdd.id == job.ref).values(**values)))

    @staticmethod
    def _link(session: Session, kind: str, ref_id: int, state: str) -> ContactWayLink | None:
        """The link the state names: an attempt's link by its state, a conversation's by its id and state."""
        query = select(ContactWayLink).where(ContactWayLink.state == state)
        if kind == "c":
            query = query.where(ContactWayLink.id == ref_id)
        return session.scalar(query)

    @staticmethod
    def _campaign_client(session: Session, link: ContactWayLink) -> CampaignClient | None:
        """The campaign client row behind the link (not for rejected rows), if the link is a campaign's."""
        if link.campaign_id is None or link.client_id is None:
            return None
        return session.scalar(
            select(CampaignClient)
            .where(
                CampaignClient.campaign_id == link.campaign_id,
                CampaignClient.client_id == link.client_id,
                CampaignClient.status != "rejected",
            )
            .limit(1)
        )
