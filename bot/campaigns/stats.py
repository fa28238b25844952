"""The difference of two proportions: Newcombe's hybrid score interval, and the test that inverts it.

Why not Wald: its interval collapses at 0 or n conversions (a control arm with 0 of 5 has standard
error 0), so it claims certainty exactly where data are thinnest, and a pooled z-test next to it can
disagree with it. Newcombe (1998, method 10) combines the two arms' Wilson score intervals; it keeps
its coverage at small and zero counts.

Agreement by construction: the p-value is the smallest α whose (1 − α) Newcombe interval excludes 0,
found by solving for the z at which the bound nearest 0 touches it. So "p < 0.05" and "the 95% interval
excludes 0" are the same statement, never two verdicts.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import NormalDist

_NORMAL = NormalDist()
Z95 = _NORMAL.inv_cdf(0.975)


def wilson(x: int, n: int, z: float) -> tuple[float, float]:
    """Wilson score interval for x successes in n trials (n > 0)."""
    p = x / n
    denominator = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denominator
    return max(0.0, centre - half), min(1.0, centre + half)


def newcombe(x_t: int, n_t: int, x_c: int, n_c: int, z: float = Z95) -> tuple[float, float]:
    """Interval for p_t − p_c (Newcombe's method 10, no continuity correction)."""
    p_t, p_c = x_t / n_t, x_c / n_c
    l_t, u_t = wilson(x_t, n_t, z)
    l_c, u_c = wilson(x_c, n_c, z)
    diff = p_t - p_c
    low = diff - math.sqrt((p_t - l_t) ** 2 + (u_c - p_c) ** 2)
    high = diff + math.sqrt((u_t - p_t) ** 2 + (p_c - l_c) ** 2)
    return max(-1.0, low), min(1.0, high)


def inverted_p_value(x_t: int, n_t: int, x_c: int, n_c: int) -> float:
    """Two-sided p: 2·(1 − Φ(z*)) where the Newcombe interval at z* has a bound exactly at 0.

    The bound nearest 0 moves monotonically towards it as z grows (the Wilson intervals widen), so
    bisection finds z*; p = 1 when the two rates are equal.
    """
    diff = x_t / n_t - x_c / n_c
    if diff == 0:
        return 1.0

    def gap(z: float) -> float:  # > 0 while the interval still excludes 0
        low, high = newcombe(x_t, n_t, x_c, n_c, z)
        return low if diff > 0 else -high

    lo, hi = 0.0, 1.0
    while gap(hi) > 0 and hi < 64:
        lo, hi = hi, hi * 2
    for _ in range(80):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if gap(mid) > 0 else (lo, mid)
    return min(1.0, 2 * (1 - _NORMAL.cdf((lo + hi) / 2)))


@dataclass(frozen=True)
class Difference:
    """p_t − p_c with its 95% interval and the p-value of the same method."""

    uplift: float
    ci_low: float
    ci_high: float
    p_value: float

    @property
    def excludes_zero(self) -> bool:
        return self.ci_low > 0 or self.ci_high < 0


def difference(x_t: int, n_t: int, x_c: int, n_c: int) -> Difference | None:
    """None when an arm is empty (no rate to compare)."""
    if n_t <= 0 or n_c <= 0:
        return None
    low, high = newcombe(x_t, n_t, x_c, n_c)
    return Difference(x_t / n_t - x_c / n_c, low, high, inverted_p_value(x_t, n_t, x_c, n_c))
