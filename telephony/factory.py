"""Builds the configured call provider from settings; the dialer only ever sees the CallProvider seam."""

from __future__ import annotations

from collections.abc import Callable

from bot.campaigns.provider import CallProvider, CallRequest, PlacedCall
from bot.errors import ConfigError
from bot.settings import Settings


def build_provider(settings: Settings) -> CallProvider:
    """The provider named by telephony.provider, validated now so a bad setting fails before any dialling."""
    config = settings.telephony
    if config.provider != "twilio":
        raise ConfigError(f"telephony.provider={config.provider!r} is unknown; supported: twilio")
    from telephony.twilio_provider import TwilioProvider

    return TwilioProvider(
        account_sid=config.account_sid or "",
        auth_token=config.auth_token.get_secret_value() if config.auth_token else "",
        from_number=config.from_number or "",
        api_base_url=config.api_base_url,
        timeout_s=config.api_timeout_s,
        machine_detection=config.machine_detection,
    )


def refusal_rule(settings: Settings) -> Callable[[str], str | None]:
    """Which numbers the configured provider refuses, and why; works without credentials, so a campaign
    can be imported and planned before the telephony account is set up."""
    if settings.telephony.provider != "twilio":
        raise ConfigError(f"telephony.provider={settings.telephony.provider!r} is unknown; supported: twilio")
    from telephony.twilio_provider import refusal_reason

    return refusal_reason


class PlanningProvider:
    """The configured provider's refusal rules without its account: for dry runs, which never dial."""

    def __init__(self, settings: Settings) -> None:
        self.name = f"{settings.telephony.provider} (dry run)"
        self._refusal = refusal_rule(settings)

    def refusal_reason(self, number: str) -> str | None:
        return self._refusal(number)

    async def place_call(self, request: CallRequest) -> PlacedCall:
        raise ConfigError("a dry run never places calls")
