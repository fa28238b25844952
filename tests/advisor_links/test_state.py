"""The link state: within WeCom's 30 characters, signed, and refused when edited, forged or malformed."""

from __future__ import annotations

import string

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.advisor_links.state import MAX_ID, MAX_STATE_CHARS, StateRef, StateSigner
from bot.errors import ConfigError

KEY = "state-key-for-tests-0123456789"
signer = StateSigner(KEY)
ids = st.integers(min_value=1, max_value=MAX_ID)
kinds = st.sampled_from(["a", "c"])


def test_wecom_allows_thirty_characters_and_the_largest_state_fits() -> None:
    assert MAX_STATE_CHARS == 30
    for kind in ("a", "c"):
        assert len(signer.sign(kind, MAX_ID)) <= MAX_STATE_CHARS  # type: ignore[arg-type]


@given(kind=kinds, ref_id=ids)
def test_every_state_is_short_plain_and_names_what_was_signed(kind: str, ref_id: int) -> None:
    state = signer.sign(kind, ref_id)  # type: ignore[arg-type]
    assert len(state) <= MAX_STATE_CHARS
    assert set(state) <= set(string.ascii_letters + string.digits + "_")
    assert signer.verify(state) == StateRef(kind=kind, id=ref_id)  # type: ignore[arg-type]


@given(ref_id=ids, data=st.data())
def test_any_edit_of_a_state_is_refused(ref_id: int, data: st.DataObject) -> None:
    state = signer.sign("a", ref_id)
    at = data.draw(st.integers(0, len(state) - 1))
    other = data.draw(st.sampled_from(string.ascii_letters + string.digits + "_").filter(lambda c: c != state[at]))
    assert signer.verify(state[:at] + other + state[at + 1 :]) is None


def test_another_attempt_or_kind_or_key_does_not_verify() -> None:
    state = signer.sign("a", 42)
    body, mac = state.split("_")
    assert signer.verify(f"a43_{mac}") is None  # the MAC of another id
    assert signer.verify(f"c{body[1:]}_{mac}") is None  # the same id as a conversation
    assert StateSigner("another-key-for-tests-987654").verify(state) is None
    assert signer.verify(signer.sign("c", 42)) == StateRef("c", 42)


@pytest.mark.parametrize(
    "state", [None, "", "teststate", "a1", "a1_", "a1_AAAAAAAAAAAAAA", "x1_" + "A" * 14, "a" + "1" * 14 + "_ABC"]
)
def test_malformed_states_are_refused(state: str | None) -> None:
    assert signer.verify(state) is None


def test_a_zero_padded_id_is_not_a_second_spelling() -> None:
    state = signer.sign("a", 7)
    mac = StateSigner(KEY)._mac("a07")  # even a correctly signed padded form is refused
    assert signer.verify(f"a07_{mac}") is None and signer.verify(state) == StateRef("a", 7)


def test_ids_outside_the_database_range_cannot_be_signed() -> None:
    for bad in (0, -1, MAX_ID + 1):
        with pytest.raises(ValueError):
            signer.sign("a", bad)


def test_a_short_key_is_a_clear_config_error() -> None:
    with pytest.raises(ConfigError, match="ADVISOR_CHANNELS__WECOM__STATE_KEY"):
        StateSigner("short")
