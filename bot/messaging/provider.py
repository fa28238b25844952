"""The text-message seam: the service sends through this interface, never through a vendor SDK directly.

Twilio Messaging is one adapter (bot/messaging/twilio_sms.py); a domestic SMS provider can be another.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from bot.errors import ChannelError


class TextDeliveryUnknown(ChannelError):
    """The provider may have sent the text (timeout or dropped connection after the request left)."""


@dataclass(frozen=True, slots=True)
class SentText:
    """What the provider answered: its message id and status (queued, accepted, sent...)."""

    sid: str
    status: str


class TextProvider(Protocol):
    """A vendor that sends text messages."""

    name: str

    def refusal_reason(self, number: str) -> str | None:
        """Why this provider cannot or may not text `number` (e.g. +86 through Twilio), or None."""
        ...

    async def send(self, *, to: str, body: str, consent_ref: str) -> SentText:
        """Send one text. Not idempotent: the caller sends each request once (bot/messaging/service.py).

        `consent_ref` names the record of the consent this text is sent under (our text id), so the
        provider's logs can be tied to it. Raises bot.errors.TextRefusedError (this number: nothing sent),
        bot.errors.ProviderUnavailableError (nothing sent) or TextDeliveryUnknown (it may have been sent).
        """
        ...
