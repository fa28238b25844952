"""Treatment against control on one outcome: the uplift, its 95% interval and the verdict the board shows.

One function for every comparison the board makes (conversion, the WeCom add rate; overall, per arm and
per segment), so they all use the same interval method and the same "too few to tell" rule.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel

from bot.campaigns.labels import Label, arm_label, label
from bot.campaigns.stats import difference

Verdict = Literal["no_data", "too_few", "up", "down", "unclear"]


class Uplift(BaseModel):
    """Treatment minus control on the outcome rate (fractions; shown as percentage points), its 95%
    interval (Newcombe hybrid score) and the p-value of the same method; `verdict` for the board."""

    treatment: str
    treatment_label: Label
    segment: str | None
    segment_label: Label | None
    n_treatment: int
    n_control: int
    treatment_rate: float | None
    control_rate: float | None
    uplift: float | None
    relative_uplift: float | None
    ci_low: float | None
    ci_high: float | None
    p_value: float | None
    significant: bool
    verdict: Verdict
    verdict_label: Label
    method: str = "newcombe_hybrid_score"


def two_proportion(
    x_t: int,
    n_t: int,
    x_c: int,
    n_c: int,
    *,
    treatment: str,
    segment: str | None = None,
    segment_label: Label | None = None,
    min_clients: int = 1,
) -> Uplift:
    """Uplift of treatment (x_t of n_t) over control (x_c of n_c); None where the data cannot say."""
    result = difference(x_t, n_t, x_c, n_c)
    verdict: Verdict = "no_data"
    if result is not None:
        if min(n_t, n_c) < min_clients:
            verdict = "too_few"
        elif result.excludes_zero:
            verdict = "up" if result.uplift > 0 else "down"
        else:
            verdict = "unclear"
    p_c = x_c / n_c if n_c else None
    return Uplift(
        treatment=treatment, treatment_label=arm_label(treatment), segment=segment, segment_label=segment_label,
        n_treatment=n_t, n_control=n_c, treatment_rate=x_t / n_t if n_t else None, control_rate=p_c,
        uplift=result.uplift if result else None,
        relative_uplift=result.uplift / p_c if result and p_c else None,
        ci_low=result.ci_low if result else None, ci_high=result.ci_high if result else None,
        p_value=result.p_value if result else None, significant=bool(result and result.excludes_zero),
        verdict=verdict, verdict_label=label("verdicts", verdict),
    )  # fmt: skip
