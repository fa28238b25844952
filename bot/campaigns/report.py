"""The campaign report (策略评估看板): funnel per arm and segment, conversion, uplift over control.

Intent to treat: every eligible client counts in the arm they were assigned, reached or not, so the
comparison with the (never called) control group is fair. Uplift is treatment rate minus control rate
in percentage points, with Newcombe's hybrid score 95% interval and the p-value that inverts it
(stats.py): significant means the interval excludes 0, by construction. Below
`campaigns.min_clients_per_arm` on either side the verdict is "too few to tell". Which outcome sources
each side counts comes from outcomes.yml and is part of the report. A call's leads are the leads whose
conversation_id is `voice:<CallSid>`. Names are labels (labels.py); ids stay alongside.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import and_, case, func, literal, select
from sqlalchemy.orm import Session

from bot.campaigns.alongside import OutcomeComparison, alongside_outcomes, compare_outcome
from bot.campaigns.labels import Label, Sides, arm_label, label, outcome_label, outcome_spec, segment_label
from bot.campaigns.models import CONTROL, Campaign, CampaignAttempt, CampaignClient, CampaignOutcome
from bot.campaigns.rules import CampaignRules, zone
from bot.campaigns.segments import segment_labels
from bot.campaigns.service import get_campaign
from bot.campaigns.uplift import Uplift, two_proportion
from bot.leads.models import Lead

ANSWERED = ("in-progress", "completed")
POOLED = "treatment_all"


class Funnel(BaseModel):
    """Clients at each step (a client counts once per step, whatever the number of attempts)."""

    eligible: int = 0
    dialed: int = 0
    answered: int = 0
    human: int = 0
    engaged: int = 0
    leads: int = 0
    opt_outs: int = 0
    converted: int = 0

    def add(self, other: Funnel) -> None:
        for name in Funnel.model_fields:
            setattr(self, name, getattr(self, name) + getattr(other, name))


class ArmStats(BaseModel):
    """One arm (and segment, when given): its funnel and conversion rate on the chosen outcome."""

    arm: str
    arm_label: Label
    segment: str | None
    segment_label: Label | None
    funnel: Funnel
    conversion_rate: float | None


class CampaignReport(BaseModel):
    """Everything the CLI, the API and the console page show for one campaign."""

    campaign_id: int
    name: str
    status: str
    status_label: Label
    dialer_active: bool
    created_at: datetime
    planned_at: datetime
    seed: int
    control_share: float
    variants: dict[str, str]
    outcome: str
    outcome_label: Label
    # Which outcome sources each side's rate counts (outcomes.yml): stated, never mixed silently.
    outcome_sources: Sides
    outcome_window: tuple[date, date]
    outcomes_recorded: int
    min_clients_per_arm: int
    arms: list[ArmStats]
    segments: list[ArmStats]
    uplift: Uplift | None
    uplift_by_arm: list[Uplift]
    uplift_by_segment: list[Uplift]
    # Outcomes shown next to the chosen one (outcomes.yml `alongside`), e.g. the WeCom add rate.
    alongside: list[OutcomeComparison] = Field(default_factory=list)
    import_summary: dict[str, Any]


class CampaignSummary(BaseModel):
    """One line of the campaign list."""

    id: int
    name: str
    status: str
    status_label: Label
    dialer_active: bool
    created_at: datetime
    rows: int
    eligible: int
    arms: dict[str, int]
    warnings: list[str] = Field(default_factory=list)


def _flag(condition: Any) -> Any:
    return func.max(case((condition, 1), else_=0))


def _funnels(
    session: Session, campaign: Campaign, outcome: str, window: tuple[date, date], sources: Sides
) -> dict[tuple[str, str | None], Funnel]:
    attempts = (
        select(
            CampaignAttempt.campaign_client_id.label("cid"),
            _flag(CampaignAttempt.call_sid.is_not(None)).label("dialed"),
            _flag(CampaignAttempt.state.in_(ANSWERED)).label("answered"),
            _flag(CampaignAttempt.answered_by == "human").label("human"),
            _flag(CampaignAttempt.engaged.is_(True)).label("engaged"),
            _flag(CampaignAttempt.opted_out.is_(True)).label("opted_out"),
        )
        .where(CampaignAttempt.campaign_id == campaign.id)
        .group_by(CampaignAttempt.campaign_client_id)
        .subquery()
    )
    leads = (
        select(CampaignAttempt.campaign_client_id.label("cid"), func.count(func.distinct(Lead.id)).label("n"))
        .join(Lead, Lead.conversation_id == literal("voice:") + CampaignAttempt.call_sid)
        .where(CampaignAttempt.campaign_id == campaign.id, CampaignAttempt.call_sid.is_not(None))
        .group_by(CampaignAttempt.campaign_client_id)
        .subquery()
    )
    positive = CampaignOutcome.value > 0
    outcomes = (
        select(
            CampaignOutcome.client_id.label("client_id"),
            _flag(and_(positive, CampaignOutcome.source.in_(sources["treatment"]))).label("converted_t"),
            _flag(and_(positive, CampaignOutcome.source.in_(sources["control"]))).label("converted_c"),
        )
        .where(
            CampaignOutcome.campaign_id == campaign.id,
            CampaignOutcome.name == outcome,
            CampaignOutcome.activity_date >= window[0],
            CampaignOutcome.activity_date <= window[1],
        )
        .group_by(CampaignOutcome.client_id)
        .subquery()
    )
    rows = session.execute(
        select(
            CampaignClient.arm,
            CampaignClient.segment,
            func.count(CampaignClient.id),
            func.coalesce(func.sum(attempts.c.dialed), 0),
            func.coalesce(func.sum(attempts.c.answered), 0),
            func.coalesce(func.sum(attempts.c.human), 0),
            func.coalesce(func.sum(attempts.c.engaged), 0),
            func.coalesce(func.sum(leads.c.n), 0),
            func.coalesce(func.sum(attempts.c.opted_out), 0),
            func.coalesce(
                func.sum(case((CampaignClient.arm == CONTROL, outcomes.c.converted_c), else_=outcomes.c.converted_t)),
                0,
            ),
        )
        .outerjoin(attempts, attempts.c.cid == CampaignClient.id)
        .outerjoin(leads, leads.c.cid == CampaignClient.id)
        .outerjoin(outcomes, outcomes.c.client_id == CampaignClient.client_id)
        .where(and_(CampaignClient.campaign_id == campaign.id, CampaignClient.status == "eligible"))
        .group_by(CampaignClient.arm, CampaignClient.segment)
    ).all()
    out: dict[tuple[str, str | None], Funnel] = {}
    for arm, segment, *counts in rows:
        keys = ("eligible", "dialed", "answered", "human", "engaged", "leads", "opt_outs", "converted")
        out[(arm or "", segment)] = Funnel(**{k: int(v) for k, v in zip(keys, counts, strict=True)})
    return out


def _stats(arm: str, segment: str | None, funnel: Funnel, labels: dict[str, Label]) -> ArmStats:
    rate = funnel.converted / funnel.eligible if funnel.eligible else None
    return ArmStats(
        arm=arm, arm_label=arm_label(arm), segment=segment, segment_label=segment_label(segment, labels),
        funnel=funnel, conversion_rate=rate,
    )  # fmt: skip


def campaign_segment_labels(campaign: Campaign, segments_file: Path | None) -> dict[str, Label]:
    """The labels frozen with the campaign at creation; older campaigns fall back to the current file."""
    frozen = (campaign.summary or {}).get("segment_labels")
    if isinstance(frozen, dict) and frozen:
        return {k: Label(id=k, zh=v.get("zh", k), en=v.get("en", k)) for k, v in frozen.items()}
    return segment_labels(segments_file) if segments_file is not None else {}


def dialer_active(campaign: Campaign, now: datetime | None = None) -> bool:
    """Is a `campaign run` holding the campaign's lease right now?"""
    return campaign.lease_until is not None and campaign.lease_until > (now or datetime.now(UTC))


def build_report(
    session: Session,
    *,
    campaign_id: int,
    outcome: str | None = None,
    segments_file: Path | None = None,
    min_clients: int = 30,
) -> CampaignReport:
    """The report of one campaign on `outcome` (default: the campaign rules' default, e.g. purchased)."""
    campaign = get_campaign(session, campaign_id)
    rules = CampaignRules.model_validate(campaign.rules)
    name = outcome or rules.default_outcome
    sources = outcome_spec(name).sources
    start = campaign.planned_at.astimezone(zone(rules.default_timezone)).date()  # the bank's calendar day
    window = (start, start + timedelta(days=rules.outcome_window_days))
    labels = campaign_segment_labels(campaign, segments_file)
    by_arm: dict[str, Funnel] = defaultdict(Funnel)
    by_segment: dict[str | None, dict[str, Funnel]] = defaultdict(lambda: defaultdict(Funnel))
    cells = _funnels(session, campaign, name, window, sources)
    for (arm, segment), funnel in sorted(cells.items(), key=lambda kv: (kv[0][0], kv[0][1] or "")):
        by_arm[arm].add(funnel)
        by_segment[segment][arm].add(funnel)
        if arm != CONTROL:
            by_segment[segment][POOLED].add(funnel)
    treatment = Funnel()
    for arm, funnel in by_arm.items():
        if arm != CONTROL:
            treatment.add(funnel)
    control = by_arm.get(CONTROL, Funnel())

    def uplift(t: Funnel, c: Funnel, arm: str, segment: str | None = None) -> Uplift:
        return two_proportion(
            t.converted, t.eligible, c.converted, c.eligible, treatment=arm, segment=segment,
            segment_label=segment_label(segment, labels), min_clients=min_clients,
        )  # fmt: skip

    treatment_arms = sorted(a for a in by_arm if a != CONTROL)
    recorded = session.scalar(
        select(func.count(CampaignOutcome.id)).where(
            CampaignOutcome.campaign_id == campaign_id, CampaignOutcome.name == name
        )
    )
    return CampaignReport(
        campaign_id=campaign.id, name=campaign.name, status=campaign.status,
        status_label=label("statuses", campaign.status), dialer_active=dialer_active(campaign),
        created_at=campaign.created_at, planned_at=campaign.planned_at, seed=campaign.seed,
        control_share=campaign.control_share, variants=dict(campaign.variants), outcome=name,
        outcome_label=outcome_label(name), outcome_sources=sources, outcome_window=window,
        outcomes_recorded=int(recorded or 0), min_clients_per_arm=min_clients,
        arms=[_stats(arm, None, f, labels) for arm, f in sorted(by_arm.items())],
        segments=[_stats(arm, seg, f, labels) for seg, arms in by_segment.items() for arm, f in sorted(arms.items())
                  if arm != POOLED],
        uplift=uplift(treatment, control, "treatment") if by_arm else None,
        uplift_by_arm=[uplift(by_arm[a], control, a) for a in treatment_arms] if len(treatment_arms) > 1 else [],
        uplift_by_segment=[uplift(arms[POOLED], arms[CONTROL], "treatment", seg) for seg, arms in by_segment.items()],
        alongside=[
            compare_outcome(session, campaign_id=campaign.id, outcome=other, window=window, labels=labels,
                            min_clients=min_clients)
            for other in alongside_outcomes(name)
        ],
        import_summary=dict(campaign.summary),
    )  # fmt: skip


def list_campaigns(session: Session, *, archived: bool = False) -> list[CampaignSummary]:
    """Every campaign, newest first, with its import counts; archived ones only when asked."""
    query = select(Campaign).order_by(Campaign.id.desc())
    if not archived:
        query = query.where(Campaign.status != "archived")
    now = datetime.now(UTC)
    out = []
    for campaign in session.scalars(query):
        summary = campaign.summary or {}
        out.append(
            CampaignSummary(
                id=campaign.id,
                name=campaign.name,
                status=campaign.status,
                status_label=label("statuses", campaign.status),
                dialer_active=dialer_active(campaign, now),
                created_at=campaign.created_at,
                rows=int(summary.get("rows", 0)),
                eligible=int(summary.get("eligible", 0)),
                arms={str(k): int(v) for k, v in dict(summary.get("arms", {})).items()},
                warnings=[str(w) for w in summary.get("warnings", [])],
            )
        )
    return out
