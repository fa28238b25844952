"""The campaign report: funnel per arm and segment, conversion, and uplift over control with its CI.

Intent to treat: every eligible client counts in the arm they were assigned, reached or not, so the
comparison with the (never called) control group is fair. Uplift is treatment rate minus control
rate; the 95% interval is Wald's (unpooled) and the p-value a two-sided two-proportion z-test (pooled).
A call's leads are the leads whose conversation_id is `voice:<CallSid>`.
"""

from __future__ import annotations

import math
from collections import defaultdict
from datetime import date, datetime, timedelta
from statistics import NormalDist
from typing import Any

from pydantic import BaseModel
from sqlalchemy import and_, case, func, literal, select
from sqlalchemy.orm import Session

from bot.campaigns.models import CONTROL, Campaign, CampaignAttempt, CampaignClient, CampaignOutcome
from bot.campaigns.rules import CampaignRules
from bot.campaigns.service import get_campaign
from bot.leads.models import Lead

_Z95 = NormalDist().inv_cdf(0.975)
ANSWERED = ("in-progress", "completed")


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
    segment: str | None
    funnel: Funnel
    conversion_rate: float | None


class Uplift(BaseModel):
    """Treatment minus control on the outcome rate, with the 95% interval and the z-test."""

    treatment: str
    segment: str | None
    n_treatment: int
    n_control: int
    treatment_rate: float | None
    control_rate: float | None
    uplift: float | None
    relative_uplift: float | None
    ci_low: float | None
    ci_high: float | None
    z: float | None
    p_value: float | None
    significant: bool


class CampaignReport(BaseModel):
    """Everything the CLI, the API and the console page show for one campaign."""

    campaign_id: int
    name: str
    status: str
    created_at: datetime
    seed: int
    control_share: float
    variants: dict[str, str]
    outcome: str
    outcome_window: tuple[date, date]
    outcomes_recorded: int
    arms: list[ArmStats]
    segments: list[ArmStats]
    uplift: Uplift | None
    uplift_by_arm: list[Uplift]
    uplift_by_segment: list[Uplift]
    import_summary: dict[str, Any]


class CampaignSummary(BaseModel):
    """One line of the campaign list."""

    id: int
    name: str
    status: str
    created_at: datetime
    rows: int
    eligible: int
    arms: dict[str, int]


def two_proportion(x_t: int, n_t: int, x_c: int, n_c: int, *, treatment: str, segment: str | None = None) -> Uplift:
    """Uplift of treatment (x_t of n_t) over control (x_c of n_c); None where the data cannot say."""
    empty = Uplift(treatment=treatment, segment=segment, n_treatment=n_t, n_control=n_c, treatment_rate=None,
                   control_rate=None, uplift=None, relative_uplift=None, ci_low=None, ci_high=None, z=None,
                   p_value=None, significant=False)  # fmt: skip
    if n_t == 0 or n_c == 0:
        return empty
    p_t, p_c = x_t / n_t, x_c / n_c
    diff = p_t - p_c
    se = math.sqrt(p_t * (1 - p_t) / n_t + p_c * (1 - p_c) / n_c)
    pooled = (x_t + x_c) / (n_t + n_c)
    se_pooled = math.sqrt(pooled * (1 - pooled) * (1 / n_t + 1 / n_c))
    z = diff / se_pooled if se_pooled > 0 else None
    p_value = 2 * (1 - NormalDist().cdf(abs(z))) if z is not None else None
    return empty.model_copy(
        update={
            "treatment_rate": p_t, "control_rate": p_c, "uplift": diff,
            "relative_uplift": diff / p_c if p_c > 0 else None,
            "ci_low": diff - _Z95 * se, "ci_high": diff + _Z95 * se, "z": z, "p_value": p_value,
            "significant": p_value is not None and p_value < 0.05,
        }
    )  # fmt: skip


def _flag(condition: Any) -> Any:
    return func.max(case((condition, 1), else_=0))


def _funnels(
    session: Session, campaign: Campaign, outcome: str, window: tuple[date, date]
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
    outcomes = (
        select(CampaignOutcome.client_id.label("client_id"), _flag(CampaignOutcome.value > 0).label("converted"))
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
            func.coalesce(func.sum(outcomes.c.converted), 0),
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


def _stats(arm: str, segment: str | None, funnel: Funnel) -> ArmStats:
    rate = funnel.converted / funnel.eligible if funnel.eligible else None
    return ArmStats(arm=arm, segment=segment, funnel=funnel, conversion_rate=rate)


def build_report(session: Session, *, campaign_id: int, outcome: str | None = None) -> CampaignReport:
    """The report of one campaign on `outcome` (default: the campaign rules' default, e.g. purchased)."""
    campaign = get_campaign(session, campaign_id)
    rules = CampaignRules.model_validate(campaign.rules)
    name = outcome or rules.default_outcome
    days = rules.outcome_window_days
    start = campaign.planned_at.date()
    window = (start, start + timedelta(days=days))
    cells = _funnels(session, campaign, name, window)
    by_arm: dict[str, Funnel] = defaultdict(Funnel)
    by_segment: dict[str | None, dict[str, Funnel]] = defaultdict(lambda: defaultdict(Funnel))
    for (arm, segment), funnel in sorted(cells.items(), key=lambda kv: (kv[0][0], kv[0][1] or "")):
        by_arm[arm].add(funnel)
        by_segment[segment][arm].add(funnel)
        pooled = "treatment_all"
        if arm != CONTROL:
            by_segment[segment][pooled].add(funnel)
    treatment = Funnel()
    for arm, funnel in by_arm.items():
        if arm != CONTROL:
            treatment.add(funnel)
    control = by_arm.get(CONTROL, Funnel())

    def uplift(t: Funnel, c: Funnel, label: str, segment: str | None = None) -> Uplift:
        return two_proportion(t.converted, t.eligible, c.converted, c.eligible, treatment=label, segment=segment)

    treatment_arms = sorted(a for a in by_arm if a != CONTROL)
    recorded = session.scalar(
        select(func.count(CampaignOutcome.id)).where(
            CampaignOutcome.campaign_id == campaign_id, CampaignOutcome.name == name
        )
    )
    return CampaignReport(
        campaign_id=campaign.id, name=campaign.name, status=campaign.status, created_at=campaign.created_at,
        seed=campaign.seed, control_share=campaign.control_share, variants=dict(campaign.variants), outcome=name,
        outcome_window=window, outcomes_recorded=int(recorded or 0),
        arms=[_stats(arm, None, f) for arm, f in sorted(by_arm.items())],
        segments=[_stats(arm, seg, f) for seg, arms in by_segment.items() for arm, f in sorted(arms.items())
                  if arm != "treatment_all"],
        uplift=uplift(treatment, control, "treatment") if by_arm else None,
        uplift_by_arm=[uplift(by_arm[a], control, a) for a in treatment_arms] if len(treatment_arms) > 1 else [],
        uplift_by_segment=[uplift(arms["treatment_all"], arms[CONTROL], "treatment", seg)
                           for seg, arms in by_segment.items()],
        import_summary=dict(campaign.summary),
    )  # fmt: skip


def list_campaigns(session: Session) -> list[CampaignSummary]:
    """Every campaign, newest first, with its import counts."""
    out = []
    for campaign in session.scalars(select(Campaign).order_by(Campaign.id.desc())):
        summary = campaign.summary or {}
        out.append(
            CampaignSummary(
                id=campaign.id,
                name=campaign.name,
                status=campaign.status,
                created_at=campaign.created_at,
                rows=int(summary.get("rows", 0)),
                eligible=int(summary.get("eligible", 0)),
                arms={str(k): int(v) for k, v in dict(summary.get("arms", {})).items()},
            )
        )
    return out
