"""The strategy board's interval and test: right at zero and small counts, and never contradicting each other."""

from __future__ import annotations

from math import comb, sqrt
from statistics import NormalDist

import pytest

from bot.campaigns.stats import difference, inverted_p_value, newcombe, wilson


@pytest.mark.parametrize(
    ("counts", "expected"),
    [
        # Newcombe (1998), Statistics in Medicine 17:873-890, Table II, method 10 (hybrid score, no CC).
        ((56, 70, 48, 80), (0.0524, 0.3339)),
        ((9, 10, 3, 10), (0.1705, 0.8090)),
        ((6, 7, 2, 7), (0.0582, 0.8062)),
        ((5, 56, 0, 29), (-0.0381, 0.1926)),  # a zero count
        ((0, 10, 0, 20), (-0.1611, 0.2775)),  # both zero
        ((10, 10, 0, 20), (0.6791, 1.0000)),  # all and nothing
    ],
)
def test_the_published_values(counts: tuple[int, int, int, int], expected: tuple[float, float]) -> None:
    low, high = newcombe(*counts)
    assert (low, high) == (pytest.approx(expected[0], abs=1e-4), pytest.approx(expected[1], abs=1e-4))


def test_zero_counts_give_a_real_interval_not_a_point() -> None:
    """Wald's standard error is 0 at 0/n: it claims certainty exactly where data are thinnest."""
    for x_t, n_t, n_c in [(0, 5, 5), (0, 3, 40), (3, 3, 7)]:
        low, high = newcombe(x_t, n_t, 0, n_c)
        assert -1 <= low < high <= 1 and high - low > 0.2
    assert wilson(0, 5, 1.96)[0] == 0 and wilson(0, 5, 1.96)[1] == pytest.approx(0.4345, abs=1e-4)


def _binomial(n: int, p: float) -> list[float]:
    return [comb(n, k) * p**k * (1 - p) ** (n - k) for k in range(n + 1)]


def _coverage(p_t: float, p_c: float, n_t: int, n_c: int, interval) -> float:  # type: ignore[no-untyped-def]
    """Exact: the probability, over every possible outcome, that the interval holds the true difference."""
    b_t, b_c = _binomial(n_t, p_t), _binomial(n_c, p_c)
    return sum(
        b_t[x_t] * b_c[x_c]
        for x_t in range(n_t + 1)
        for x_c in range(n_c + 1)
        if interval(x_t, n_t, x_c, n_c)[0] <= p_t - p_c <= interval(x_t, n_t, x_c, n_c)[1]
    )


def _wald(x_t: int, n_t: int, x_c: int, n_c: int) -> tuple[float, float]:
    a, b = x_t / n_t, x_c / n_c
    se = sqrt(a * (1 - a) / n_t + b * (1 - b) / n_c)
    return a - b - 1.96 * se, a - b + 1.96 * se


@pytest.mark.parametrize(
    ("p_t", "p_c", "n_t", "n_c"), [(0.3, 0.02, 24, 5), (0.05, 0.02, 20, 20), (0.2, 0.05, 30, 10), (0.5, 0.01, 40, 8)]
)
def test_coverage_holds_at_small_counts_and_rare_events(p_t: float, p_c: float, n_t: int, n_c: int) -> None:
    assert _coverage(p_t, p_c, n_t, n_c, newcombe) >= 0.95
    # Where conversions are rare, Wald's falls far short (0.76 at 5% vs 2% with 20 a side).
    if (p_t, p_c) == (0.05, 0.02):
        assert _coverage(p_t, p_c, n_t, n_c, _wald) < 0.8


def test_the_ci_and_the_p_value_always_agree() -> None:
    """p < 0.05 exactly when the 95% interval excludes 0, on every table with up to 12 clients a side."""
    z95 = NormalDist().inv_cdf(0.975)
    checked = 0
    for n_t in range(1, 13):
        for n_c in range(1, 13):
            for x_t in range(n_t + 1):
                for x_c in range(n_c + 1):
                    result = difference(x_t, n_t, x_c, n_c)
                    assert result is not None
                    if abs(result.p_value - 0.05) < 1e-9:
                        continue  # on the boundary itself either reading is right
                    assert (result.p_value < 0.05) == result.excludes_zero, (x_t, n_t, x_c, n_c)
                    if 0 < result.p_value < 1:
                        # at the z the p-value corresponds to, the interval's bound nearest 0 touches 0
                        z = NormalDist().inv_cdf(1 - result.p_value / 2)
                        low, high = newcombe(x_t, n_t, x_c, n_c, z)
                        assert min(abs(low), abs(high)) < 1e-6, (x_t, n_t, x_c, n_c)
                    checked += 1
    assert checked > 5000
    assert newcombe(3, 4, 0, 4) == newcombe(3, 4, 0, 4, z95)


def test_equal_rates_have_p_one_and_an_empty_arm_has_no_result() -> None:
    assert inverted_p_value(2, 10, 4, 20) == 1.0
    assert difference(1, 0, 1, 10) is None and difference(1, 10, 0, 0) is None
