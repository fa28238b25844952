"""The campaigns API for bank staff and the console: list campaigns, read a report.

Protected like the leads API (X-API-Key = settings.leads.api_key; 503 when no key is configured).
Handlers are plain `def`, so FastAPI runs their database work in its thread pool.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from bot.campaigns.report import CampaignReport, CampaignSummary, build_report, list_campaigns
from bot.deps import RowId, SessionsDep, SettingsDep, require_api_key

router = APIRouter(prefix="/api/campaigns", tags=["campaigns"], dependencies=[Depends(require_api_key)])


@router.get("", response_model=list[CampaignSummary])
def campaigns(sessions: SessionsDep, archived: bool = False) -> list[CampaignSummary]:
    """Every campaign, newest first (archived ones with ?archived=true)."""
    with sessions() as session:
        return list_campaigns(session, archived=archived)


@router.get("/{campaign_id}/report", response_model=CampaignReport)
def report(
    sessions: SessionsDep,
    settings: SettingsDep,
    campaign_id: RowId,
    outcome: Annotated[str | None, Query(max_length=64, pattern=r"^[a-z_][a-z0-9_]*$")] = None,
) -> CampaignReport:
    """Funnel per arm and segment and the uplift over control on `outcome` (default: config), in fractions
    (the console and CLI show percentage points), with labels, verdicts and the outcome sources per arm."""
    with sessions() as session:
        return build_report(
            session, campaign_id=campaign_id, outcome=outcome, segments_file=settings.campaigns.segments_file,
            min_clients=settings.campaigns.min_clients_per_arm,
        )  # fmt: skip
