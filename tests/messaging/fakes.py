"""An in-process text provider that records what it was asked to send, and can fail on request."""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.errors import ProviderUnavailableError
from bot.messaging.provider import SentText, TextDeliveryUnknown
from bot.messaging.twilio_sms import refusal_reason


@dataclass
class RecordingProvider:
    """Twilio's refusal rules (+86), in memory; `fail_with` makes the next sends fail that way."""

    name: str = "recording"
    sent: list[tuple[str, str, str]] = field(default_factory=list)  # (to, body, consent_ref)
    fail_with: list[Exception] = field(default_factory=list)

    def refusal_reason(self, number: str) -> str | None:
        return refusal_reason(number)

    async def send(self, *, to: str, body: str, consent_ref: str) -> SentText:
        if self.fail_with:
            raise self.fail_with.pop(0)
        self.sent.append((to, body, consent_ref))
        return SentText(sid=f"SM{len(self.sent):032d}", status="queued")


UNKNOWN = TextDeliveryUnknown("read timeout: it may have been sent")
DOWN = ProviderUnavailableError("Twilio unreachable")
