"""WeCom's errors, placed under the project's hierarchy (bot.errors).

InputError
└── CallbackRejected        a callback we refuse (the view maps it to 403 / 400)
    ├── SignatureMismatch   msg_signature does not match: 403
    ├── StaleCallback       timestamp outside the replay window: 403
    └── CallbackMalformed   bad XML, bad ciphertext or a foreign receive id: 400
ChannelError
├── WeComApiError           WeCom answered with an errcode (definitive: it did not act)
└── DeliveryUnknown         a send timed out after it may have reached WeCom: never retried
"""

from __future__ import annotations

from bot.errors import ChannelError, InputError


class CallbackRejected(InputError):
    """A callback request we refuse; nothing is processed."""

    status_code = 400


class SignatureMismatch(CallbackRejected):
    """The msg_signature does not match token, timestamp, nonce and ciphertext."""

    status_code = 403


class StaleCallback(CallbackRejected):
    """The timestamp is outside the replay window (or unreadable)."""

    status_code = 403


class CallbackMalformed(CallbackRejected):
    """The signature matched, but the payload cannot be read."""


class WeComApiError(ChannelError):
    """WeCom refused a call with a non-zero errcode (or a 4xx status)."""

    def __init__(self, path: str, errcode: int, errmsg: str) -> None:
        super().__init__(f"WeCom {path} failed: errcode {errcode} ({errmsg})")
        self.path = path
        self.errcode = errcode
        self.errmsg = errmsg


class DeliveryUnknown(ChannelError):
    """A non-idempotent call failed after the request may have been delivered."""
