"""A second outcome on the board, next to conversion: e.g. the WeCom add rate (outcomes.yml `alongside: true`).

The same intent-to-treat denominators (every eligible client of the arm) and the same interval method
(uplift.py) as conversion. Each arm's figure counts only the sources outcomes.yml allows for its side
(imported for every arm; callbacks only for treated arms, since control has no link to click), and each
row says which sources it counted and how many clients each source brought: nothing is mixed silently.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from typing import Any, get_args

from pydantic import BaseModel
from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import Session

from bot.campaigns.labels import Label, Sides, arm_label, outcome_label, outcome_spec, outcome_specs, segment_label
from bot.campaigns.models import CONTROL, CampaignClient, CampaignOutcome, OutcomeSource
from bot.campaigns.uplift import Uplift, two_proportion

SOURCES: tuple[str, ...] = get_args(OutcomeSource)
POOLED = "treatment"


class OutcomeRate(BaseModel):
    """One arm (and segment): eligible clients, those with the outcome, the rate, and from which sources."""

    arm: str
    arm_label: Label
    segment: str | None
    segment_label: Label | None
    eligible: int
    converted: int
    rate: float | None
    # The sources this arm's figure counts (outcomes.yml), and clients with the outcome per source (a
    # client found in two sources counts once in `converted`).
    sources: list[str]
    by_source: dict[str, int]


class OutcomeComparison(BaseModel):
    """One outcome across arms and segments, with uplift over control like the main comparison."""

    outcome: str
    outcome_label: Label
    outcome_sources: Sides
    outcomes_recorded: int
    arms: list[OutcomeRate]
    segments: list[OutcomeRate]
    uplift: Uplift | None
    uplift_by_arm: list[Uplift]
    uplift_by_segment: list[Uplift]


@dataclass
class _Cell:
    eligible: int = 0
    converted: int = 0
    by_source: dict[str, int] = field(default_factory=lambda: dict.fromkeys(SOURCES, 0))

    def add(self, other: _Cell) -> None:
        self.eligible += other.eligible
        self.converted += other.converted
        for source, n in other.by_source.items():
            self.by_source[source] += n


def alongside_outcomes(chosen: str) -> list[str]:
    """Outcomes the board shows next to `chosen` (outcomes.yml `alongside: true`), in file order."""
    return [name for name, spec in outcome_specs().items() if spec.alongside and name != chosen]


def _flag(condition: Any) -> Any:
    return func.max(case((condition, 1), else_=0))


def _cells(
    session: Session, campaign_id: int, outcome: str, window: tuple[date, date], sides: Sides
) -> dict[tuple[str, str | None], _Cell]:
    positive = CampaignOutcome.value > 0
    per_client = (
        select(
            CampaignOutcome.client_id.label("client_id"),
            _flag(and_(positive, CampaignOutcome.source.in_(sides["treatment"]))).label("t"),
            _flag(and_(positive, CampaignOutcome.source.in_(sides["control"]))).label("c"),
            *(_flag(and_(positive, CampaignOutcome.source == s)).label(f"s_{s}") for s in SOURCES),
        )
        .where(
            CampaignOutcome.campaign_id == campaign_id,
            CampaignOutcome.name == outcome,
            CampaignOutcome.activity_date.between(*window),
        )
        .group_by(CampaignOutcome.client_id)
        .subquery()
    )
    counted = case((CampaignClient.arm == CONTROL, per_client.c.c), else_=per_client.c.t)
    rows = session.execute(
        select(
            CampaignClient.arm,
            CampaignClient.segment,
            func.count(CampaignClient.id),
            func.coalesce(func.sum(counted), 0),
            *(func.coalesce(func.sum(per_client.c[f"s_{s}"]), 0) for s in SOURCES),
        )
        .outerjoin(per_client, per_client.c.client_id == CampaignClient.client_id)
        .where(CampaignClient.campaign_id == campaign_id, CampaignClient.status == "eligible")
        .group_by(CampaignClient.arm, CampaignClient.segment)
    ).all()
    return {
        (arm or "", segment): _Cell(int(n), int(x), {s: int(v) for s, v in zip(SOURCES, by, strict=True)})
        for arm, segment, n, x, *by in rows
    }


def compare_outcome(
    session: Session,
    *,
    campaign_id: int,
    outcome: str,
    window: tuple[date, date],
    labels: dict[str, Label],
    min_clients: int,
) -> OutcomeComparison:
    """The outcome's rate per arm and per segment, and its uplift over control (overall, per arm, per segment)."""
    sides = outcome_spec(outcome).sources
    by_arm: dict[str, _Cell] = defaultdict(_Cell)
    by_segment: dict[str | None, dict[str, _Cell]] = defaultdict(lambda: defaultdict(_Cell))
    treated_in: dict[str | None, _Cell] = defaultdict(_Cell)  # every treatment arm pooled, per segment
    cells = _cells(session, campaign_id, outcome, window, sides)
    for (arm, segment), cell in sorted(cells.items(), key=lambda kv: (kv[0][0], kv[0][1] or "")):
        by_arm[arm].add(cell)
        by_segment[segment][arm].add(cell)
        if arm != CONTROL:
            treated_in[segment].add(cell)

    def row(arm: str, segment: str | None, cell: _Cell) -> OutcomeRate:
        return OutcomeRate(
            arm=arm, arm_label=arm_label(arm), segment=segment, segment_label=segment_label(segment, labels),
            eligible=cell.eligible, converted=cell.converted,
            rate=cell.converted / cell.eligible if cell.eligible else None,
            sources=sides["control" if arm == CONTROL else "treatment"], by_source=dict(cell.by_source),
        )  # fmt: skip

    def uplift(t: _Cell, c: _Cell, arm: str, segment: str | None = None) -> Uplift:
        return two_proportion(
            t.converted, t.eligible, c.converted, c.eligible, treatment=arm, segment=segment,
            segment_label=segment_label(segment, labels), min_clients=min_clients,
        )  # fmt: skip

    treated = sorted(a for a in by_arm if a != CONTROL)
    pooled = _Cell()
    for arm in treated:
        pooled.add(by_arm[arm])
    control = by_arm.get(CONTROL, _Cell())
    recorded = session.scalar(
        select(func.count(CampaignOutcome.id)).where(
            CampaignOutcome.campaign_id == campaign_id, CampaignOutcome.name == outcome
        )
    )
    return OutcomeComparison(
        outcome=outcome, outcome_label=outcome_label(outcome), outcome_sources=sides,
        outcomes_recorded=int(recorded or 0),
        arms=[row(arm, None, cell) for arm, cell in sorted(by_arm.items())],
        segments=[row(arm, seg, cell) for seg, arms in by_segment.items() for arm, cell in sorted(arms.items())],
        uplift=uplift(pooled, control, POOLED) if by_arm else None,
        uplift_by_arm=[uplift(by_arm[a], control, a) for a in treated] if len(treated) > 1 else [],
        uplift_by_segment=[uplift(treated_in[seg], arms[CONTROL], POOLED, seg) for seg, arms in by_segment.items()],
    )  # fmt: skip
