"""The `state` of a 「联系我」 link: a compact signed token naming the campaign attempt or the conversation.

WeCom returns a link's `state` in the add_external_contact callback, so it is how a friend-add is traced
back to who offered the link. WeCom allows at most 30 characters. Layout, at most 29:

    <kind><id in base 36>_<MAC>        e.g.  a2s7_KQ4TVA6XJ3PME2

kind `a`: a campaign attempt id; `c`: a conversation link (its row id in wecom_contact_ways). MAC: the
first 14 base-32 characters (70 bits) of HMAC-SHA256(key, kind + id), so a forged or edited state is
refused without a database read. Only letters, digits and `_`: nothing to escape anywhere.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from dataclasses import dataclass
from typing import Literal

from bot.errors import ConfigError

MAX_STATE_CHARS = 30  # WeCom: "不超过30个字符"
MAC_CHARS = 14
MAX_ID = 2**63 - 1  # the largest database id (13 base-36 digits)
StateKind = Literal["a", "c"]
_KINDS: tuple[StateKind, ...] = ("a", "c")
_STATE = re.compile(rf"^([ac])([0-9a-z]{{1,13}})_([A-Z2-7]{{{MAC_CHARS}}})$")
_DIGITS = "0123456789abcdefghijklmnopqrstuvwxyz"
MIN_KEY_CHARS = 16


@dataclass(frozen=True)
class StateRef:
    """What a verified state names: an attempt (`a`) or a conversation link (`c`), by id."""

    kind: StateKind
    id: int


def _base36(number: int) -> str:
    digits = ""
    while True:
        number, rest = divmod(number, 36)
        digits = _DIGITS[rest] + digits
        if number == 0:
            return digits


class StateSigner:
    """Signs and verifies link states with one secret key (channels.wecom.state_key)."""

    def __init__(self, key: str) -> None:
        if len(key.strip()) < MIN_KEY_CHARS:
            raise ConfigError(
                f"channels.wecom.state_key must be at least {MIN_KEY_CHARS} characters "
                "(set ADVISOR_CHANNELS__WECOM__STATE_KEY, e.g. to the output of `openssl rand -hex 24`)"
            )
        self._key = key.encode("utf-8")

    def _mac(self, body: str) -> str:
        digest = hmac.new(self._key, body.encode("ascii"), hashlib.sha256).digest()
        return base64.b32encode(digest).decode("ascii")[:MAC_CHARS]

    def sign(self, kind: StateKind, ref_id: int) -> str:
        """The state for `kind` and `ref_id`; always within WeCom's 30 characters."""
        if kind not in _KINDS or not 1 <= ref_id <= MAX_ID:
            raise ValueError(f"cannot sign state {kind!r}/{ref_id}: kind a|c and id 1..2^63-1")
        body = f"{kind}{_base36(ref_id)}"
        return f"{body}_{self._mac(body)}"

    def verify(self, state: str | None) -> StateRef | None:
        """What the state names, or None when it is not one of ours (malformed, edited or forged)."""
        found = _STATE.match(state or "")
        if found is None:
            return None
        kind, digits, mac = found.groups()
        if not hmac.compare_digest(mac, self._mac(kind + digits)):
            return None
        ref_id = int(digits, 36)
        if not 1 <= ref_id <= MAX_ID or _base36(ref_id) != digits:  # one spelling per id: no leading zeros
            return None
        return StateRef(kind="a" if kind == "a" else "c", id=ref_id)
