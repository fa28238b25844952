"""Builds the configured text provider from settings; the service only ever sees the TextProvider seam."""

from __future__ import annotations

from bot.messaging.provider import TextProvider
from bot.settings import Settings


def build_text_provider(settings: Settings) -> TextProvider | None:
    """messaging.provider (None: texts are refused with that reason), validated now: ConfigError names the key."""
    if settings.messaging.provider is None:
        return None
    from bot.messaging.twilio_sms import TwilioTextProvider

    telephony, messaging = settings.telephony, settings.messaging
    return TwilioTextProvider(
        account_sid=telephony.account_sid or "",
        auth_token=telephony.auth_token.get_secret_value() if telephony.auth_token else "",
        from_number=messaging.from_number or telephony.from_number,
        messaging_service_sid=messaging.messaging_service_sid,
        api_base_url=telephony.api_base_url,
        timeout_s=messaging.api_timeout_s,
    )
