"""The documented lead score: ordered by type, raised by signals, scaled by NLU confidence, within 0–100."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.leads.scoring import BASE_SCORES, mentions_amount, score_lead


def test_the_formula_as_documented() -> None:
    assert score_lead(type="advisor_request", confidence=1.0) == 70
    assert score_lead(type="product_interest", confidence=1.0, product_named=True, amount_mentioned=True) == 75
    assert score_lead(type="product_interest", confidence=0.0) == 33  # 55 × 0.6
    assert score_lead(type="complaint", confidence=None) == 80  # a button press counts as certain
    assert score_lead(type="something_new", confidence=1.0) == 40


def test_types_are_ordered_by_urgency() -> None:
    ranked = sorted(BASE_SCORES, key=lambda t: score_lead(type=t, confidence=0.9), reverse=True)
    assert ranked == ["complaint", "advisor_request", "product_interest", "callback_request"]


@given(
    st.sampled_from([*BASE_SCORES, "other"]),
    st.one_of(st.none(), st.floats(min_value=-1, max_value=2, allow_nan=False)),
    st.booleans(),
    st.booleans(),
)
def test_always_within_0_to_100_and_signals_never_lower_it(
    type_: str, confidence: float | None, product: bool, amount: bool
) -> None:
    score = score_lead(type=type_, confidence=confidence, product_named=product, amount_mentioned=amount)
    assert 0 <= score <= 100
    assert score >= score_lead(type=type_, confidence=confidence)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("我有50万想买理财", True),
        ("大概十万块", True),
        ("¥100,000", True),
        ("invest 20k", True),
        ("about 300000 RMB", True),
        ("两千元起购吗", True),
        ("持有3个月可以赎回吗", False),
        ("5年期的产品", False),
        ("WM001 怎么样", False),
    ],
)
def test_amounts_are_recognised(text: str, expected: bool) -> None:
    assert mentions_amount(text) is expected
