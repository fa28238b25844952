"""Phone numbers are matched in E.164 whatever way the client typed them."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.contacts.phones import normalize_phone


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("13812345678", "+8613812345678"),
        ("138 1234 5678", "+8613812345678"),
        ("138-1234-5678", "+8613812345678"),
        ("+86 138 1234 5678", "+8613812345678"),
        ("008613812345678", "+8613812345678"),
        ("8613812345678", "+8613812345678"),
        ("(+86) 138.1234.5678", "+8613812345678"),
        ("+14155550123", "+14155550123"),
        ("+85291234567", "+85291234567"),
    ],
)
def test_common_forms_become_e164(raw: str, expected: str) -> None:
    assert normalize_phone(raw) == expected


@pytest.mark.parametrize("raw", ["", "hello", "12345", "010-12345678", "+86138123456789", "1381234567", "+0123456"])
def test_non_numbers_and_ambiguous_landlines_are_refused(raw: str) -> None:
    assert normalize_phone(raw) is None


mobiles = st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True)
decorations = st.sampled_from(["{}", "+86{}", "86{}", "0086{}", "+86 {}", "{} "])


@given(mobiles, decorations)
def test_every_spelling_of_a_mobile_is_the_same_key(mobile: str, decoration: str) -> None:
    normalized = normalize_phone(decoration.format(mobile))
    assert normalized == "+86" + mobile
    assert normalize_phone(normalized) == normalized
