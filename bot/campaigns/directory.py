"""The clients the bank has given us: rows of campaign client lists, looked up by client id.

Leads use it (through bot.leads.assignment.LeadRouting) to link a conversation to a known client and
take the advisor from the client's row. The latest list a client was imported in wins; rejected rows
(bad phone, missing consent...) are never taken as a client's details.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.campaigns.models import CampaignClient
from bot.leads.models import KnownClient


def known_client(session: Session, client_id: str) -> KnownClient | None:
    """The client's row in the most recent campaign list that accepted it, or None."""
    row = session.scalar(
        select(CampaignClient)
        .where(CampaignClient.client_id == client_id, CampaignClient.status != "rejected")
        .order_by(CampaignClient.campaign_id.desc(), CampaignClient.id.desc())
        .limit(1)
    )
    if row is None:
        return None
    return KnownClient(
        client_id=row.client_id,
        name=row.name,
        phone=row.phone,
        advisor_id=row.advisor_id,
        segment=row.segment,
        campaign_id=row.campaign_id,
        consent_date=row.consent_date,
    )
