"""Twilio adapter: the only module that imports the twilio SDK's REST client.

The SDK's sync client runs in a worker thread (asyncio.to_thread) so the dialer's event loop never blocks;
`calls.create` is not idempotent, so a failure is reported and never retried here.
"""

from __future__ import annotations

import asyncio
import logging

import requests
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from bot.campaigns.provider import CallRequest, PlacedCall
from bot.errors import CallRefusedError, ConfigError, ProviderUnavailableError

logger = logging.getLogger(__name__)

STATUS_EVENTS = ["initiated", "ringing", "answered", "completed"]
# Twilio stopped outbound calls to mainland China on 2023-11-30.
_MAINLAND_CHINA = "+86"
_REFUSED_CN = (
    "Twilio 自 2023-11-30 起停止向中国大陆（+86）号码外呼，请改用境内运营商线路。"
    " / Twilio stopped outbound calls to mainland China (+86) on 2023-11-30; use a domestic carrier."
)
# Twilio error codes that mean "this number cannot be called" rather than "Twilio is unwell".
_REFUSAL_CODES = {13223, 13224, 13225, 13226, 13227, 21211, 21214, 21215, 21216, 21217, 21612, 32205}


def refusal_reason(number: str) -> str | None:
    """Numbers Twilio cannot call, with the reason; needs no credentials (campaign planning uses it)."""
    if not number.startswith("+") or not number[1:].isdigit() or not 8 <= len(number) <= 16:
        return f"号码不是 E.164 格式：{number!r} / not an E.164 number: {number!r}"
    if number.startswith(_MAINLAND_CHINA):
        return _REFUSED_CN
    return None


class TwilioProvider:
    """Places outbound calls through Twilio's REST API (or a Twilio-compatible simulator)."""

    name = "twilio"

    def __init__(
        self,
        *,
        account_sid: str,
        auth_token: str,
        from_number: str,
        api_base_url: str | None = None,
        timeout_s: float = 10.0,
        machine_detection: str = "DetectMessageEnd",
    ) -> None:
        missing = [k for k, v in {"account_sid": account_sid, "auth_token": auth_token}.items() if not v]
        if missing or not from_number:
            names = ", ".join(f"telephony.{k}" for k in [*missing, *([] if from_number else ["from_number"])])
            raise ConfigError(f"Twilio needs {names} (auth token from env ADVISOR_TELEPHONY__AUTH_TOKEN)")
        self._from = from_number
        self._machine_detection = machine_detection
        # environment={} keeps TWILIO_EDGE/TWILIO_REGION from silently rewriting the host.
        self._client = Client(
            account_sid,
            auth_token,
            http_client=TwilioHttpClient(timeout=timeout_s),
            environment={},
        )
        if api_base_url:
            self._client.api.base_url = api_base_url.rstrip("/")

    def refusal_reason(self, number: str) -> str | None:
        """Mainland China is refused; anything not in E.164 form is refused with a reason too."""
        return refusal_reason(number)

    async def place_call(self, request: CallRequest) -> PlacedCall:
        """One calls.create in a worker thread. Raises CallRefusedError or ProviderUnavailableError."""
        reason = self.refusal_reason(request.to)
        if reason:
            raise CallRefusedError(reason)
        return await asyncio.to_thread(self._create, request)

    def _create(self, request: CallRequest) -> PlacedCall:
        kwargs: dict[str, object] = {}
        if request.machine_detection:
            # Synchronous AMD: the answer webhook itself carries AnsweredBy, so voicemail needs no call update.
            kwargs = {"machine_detection": self._machine_detection, "async_amd": "false"}
        try:
            call = self._client.calls.create(
                to=request.to,
                from_=self._from,
                url=request.answer_url,
                method="POST",
                status_callback=request.status_url,
                status_callback_event=STATUS_EVENTS,
                status_callback_method="POST",
                timeout=request.ring_timeout_s,
                time_limit=request.time_limit_s,
                **kwargs,
            )
        except TwilioRestException as exc:
            if exc.code in _REFUSAL_CODES:  # the number; any other 4xx is our setup (and never the callee's)
                raise CallRefusedError(f"Twilio 拒绝呼叫 / Twilio refused the call: {exc.code} {exc.msg}") from exc
            raise ProviderUnavailableError(f"Twilio error {exc.status} {exc.code}: {exc.msg}") from exc
        except (TwilioException, requests.RequestException) as exc:
            raise ProviderUnavailableError(f"Twilio unreachable: {exc!r}") from exc
        if not call.sid:
            raise ProviderUnavailableError("Twilio answered without a call sid")
        return PlacedCall(call_sid=call.sid, status=str(call.status or "queued"))
