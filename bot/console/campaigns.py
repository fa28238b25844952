"""Campaign strategy board (策略评估看板): per campaign the funnel, conversion and uplift with its 95% interval,
per arm and per segment, read from bot.campaigns.report (the same report the CLI and API give): labels
first (ids as secondary text), rates in %, uplifts in percentage points, a verdict that never contradicts
the interval, and "样本不足 too few to tell" below campaigns.min_clients_per_arm.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.campaigns.labels import label, outcome_label, outcome_specs
from bot.campaigns.models import CampaignOutcome
from bot.campaigns.report import CampaignReport, CampaignSummary, build_report, list_campaigns
from bot.console import charts
from bot.console.deps import ApiUser, PageUser, render
from bot.deps import RowId, SessionsDep, SettingsDep
from bot.settings import Settings

router = APIRouter(prefix="/console", include_in_schema=False)
api = APIRouter(prefix="/console/api", tags=["console"])
Outcome = Annotated[str | None, Query(max_length=64, pattern=r"^[\w.-]*$")]


def _report(session: Session, settings: Settings, campaign_id: int, outcome: str | None) -> CampaignReport:
    return build_report(
        session, campaign_id=campaign_id, outcome=outcome or None, segments_file=settings.campaigns.segments_file,
        min_clients=settings.campaigns.min_clients_per_arm,
    )  # fmt: skip


def _outcome_names(session: Session, campaign_id: int) -> list[str]:
    rows = session.scalars(
        select(CampaignOutcome.name)
        .where(CampaignOutcome.campaign_id == campaign_id)
        .distinct()
        .order_by(CampaignOutcome.name)
    )
    return list(rows)


def figures(report: CampaignReport) -> dict[str, dict[str, Any]]:
    """The board's charts: funnel, conversion per arm and per segment, uplift overall/per arm/per segment."""
    out = {
        "funnel": charts.campaign_funnel(report.arms),
        "conversion": charts.conversion_bars("各组转化率 Conversion per arm", report.arms, by_segment=False),
    }
    if report.segments:
        out["segments"] = charts.conversion_bars("分群转化率 Conversion per segment", report.segments, by_segment=True)
    pairs = [("全部处理组 All treatment", report.uplift)] if report.uplift else []
    pairs += [(u.treatment_label.text(), u) for u in report.uplift_by_arm]
    if any(u.uplift is not None for _, u in pairs):
        out["uplift"] = charts.uplift_chart(
            "提升及95%置信区间 Uplift vs control, 95% CI", [u for _, u in pairs], labels=[label for label, _ in pairs]
        )
    if any(u.uplift is not None for u in report.uplift_by_segment):
        out["uplift_segments"] = charts.uplift_chart(
            "分群提升 Uplift per segment, 95% CI",
            report.uplift_by_segment,
            labels=[u.segment_label.zh if u.segment_label else "—" for u in report.uplift_by_segment],
        )
    for other in report.alongside:  # e.g. the WeCom add rate, next to conversion
        name = other.outcome_label.text()
        out[f"rate_{other.outcome}"] = charts.rate_bars(
            f"各组{other.outcome_label.zh} {other.outcome_label.en} per arm",
            [(a, a.rate, a.eligible) for a in other.arms], by_segment=False,
        )  # fmt: skip
        if other.segments:
            out[f"rate_segments_{other.outcome}"] = charts.rate_bars(
                f"分群 {name} per segment", [(s, s.rate, s.eligible) for s in other.segments], by_segment=True
            )
    return out


@router.get("/campaigns")
def campaigns_page(request: Request, principal: PageUser, sessions: SessionsDep, archived: bool = False) -> Response:
    """Every campaign with its lifecycle status (archived ones on request)."""
    with sessions() as session:
        campaigns = list_campaigns(session, archived=archived)
    return render(request, "campaigns.html", principal=principal, campaigns=campaigns, archived=archived)


@router.get("/campaigns/{campaign_id}")
def campaign_page(
    request: Request,
    campaign_id: RowId,
    principal: PageUser,
    sessions: SessionsDep,
    settings: SettingsDep,
    outcome: Outcome = None,
) -> Response:
    with sessions() as session:
        report = _report(session, settings, campaign_id, outcome)
        outcomes = _outcome_names(session, campaign_id)
    return render(
        request,
        "campaign.html",
        principal=principal,
        report=report,
        outcomes=[outcome_label(o) for o in sorted({*outcomes, *outcome_specs(), report.outcome})],
        source_labels={s: label("sources", s).text() for s in ("imported", "callback")},
        figures=figures(report),
        charts=True,
    )


@api.get("/campaigns", response_model=list[CampaignSummary])
def campaigns_api(_: ApiUser, sessions: SessionsDep, archived: bool = False) -> list[CampaignSummary]:
    """Every campaign, newest first."""
    with sessions() as session:
        return list_campaigns(session, archived=archived)


@api.get("/campaigns/{campaign_id}", response_model=CampaignReport)
def campaign_api(
    campaign_id: RowId, _: ApiUser, sessions: SessionsDep, settings: SettingsDep, outcome: Outcome = None
) -> CampaignReport:
    """One campaign's report on `outcome` (default: the campaign's own)."""
    with sessions() as session:
        return _report(session, settings, campaign_id, outcome)
