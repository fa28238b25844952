"""The call-provider seam, owned by its consumer: campaigns dial through this interface, never through a
vendor SDK directly. Twilio is one adapter (telephony/twilio_provider.py, in the vendor package); a domestic
carrier can be another.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol


@dataclass(frozen=True, slots=True)
class CallRequest:
    """One outbound call to place. `answer_url` and `status_url` are public, absolute webhook URLs."""

    to: str
    answer_url: str
    status_url: str
    machine_detection: bool = True
    ring_timeout_s: int = 30
    time_limit_s: int = 600
    metadata: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class PlacedCall:
    """What the provider answered: its call id and initial status (queued, ringing, ...)."""

    call_sid: str
    status: str


class CallProvider(Protocol):
    """A telephony vendor that can place outbound calls."""

    name: str

    def refusal_reason(self, number: str) -> str | None:
        """Why this provider cannot call `number` (e.g. +86 on Twilio), or None when it can."""
        ...

    async def place_call(self, request: CallRequest) -> PlacedCall:
        """Place one call. Not idempotent: callers must never retry it blindly.

        Raises bot.errors.CallRefusedError or bot.errors.ProviderUnavailableError.
        """
        ...
