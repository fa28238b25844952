"""Twilio Messaging adapter: the only module that uses the twilio SDK's messaging API (messages.create).

The SDK's sync client runs in a worker thread (asyncio.to_thread). `messages.create` is not idempotent, so
nothing is retried here: a failure before the request left is ProviderUnavailableError (nothing sent),
one after it may have arrived is TextDeliveryUnknown (the caller never sends it again).
"""

from __future__ import annotations

import asyncio
import logging

import requests
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client
from urllib3.exceptions import NewConnectionError

from bot.errors import ConfigError, ProviderUnavailableError, TextRefusedError
from bot.messaging.provider import SentText, TextDeliveryUnknown

logger = logging.getLogger(__name__)
_MAINLAND_CHINA = "+86"
_REFUSED_CN = (
    "不通过 Twilio 向中国大陆（+86）号码发送短信：客户号码出境须单独同意并经出境安全评估或标准合同"
    "（个人信息保护法第38–39条），且境外短信通道自2023-11-30起无法外呼大陆，大陆短信请用境内服务商。"
    " / Texts to mainland China (+86) are not sent through Twilio: a client's number may only go abroad with "
    "separate consent and a CAC transfer mechanism (PIPL art. 38-39), and Twilio no longer calls +86 since "
    "2023-11-30; use a domestic SMS provider."
)
# Twilio error codes that mean "this number cannot (or may not) receive this text".
_REFUSAL_CODES = {21211, 21214, 21408, 21610, 21612, 21614}


def refusal_reason(number: str) -> str | None:
    """Numbers this adapter will not text, with the reason (no credentials needed)."""
    if not number.startswith("+") or not number[1:].isdigit() or not 8 <= len(number) <= 16:
        return f"号码不是 E.164 格式：{number!r} / not an E.164 number: {number!r}"
    if number.startswith(_MAINLAND_CHINA):
        return _REFUSED_CN
    return None


class TwilioTextProvider:
    """Sends texts through Twilio's Messages API (or the Twilio simulator)."""

    name = "twilio"

    def __init__(
        self,
        *,
        account_sid: str,
        auth_token: str,
        from_number: str | None = None,
        messaging_service_sid: str | None = None,
        api_base_url: str | None = None,
        timeout_s: float = 10.0,
    ) -> None:
        missing = [k for k, v in {"telephony.account_sid": account_sid, "auth_token": auth_token}.items() if not v]
        if not (from_number or messaging_service_sid):
            missing.append("messaging.from_number (or messaging.messaging_service_sid)")
        if missing:
            raise ConfigError(
                f"Twilio texts need {', '.join(missing)} (the auth token from env ADVISOR_TELEPHONY__AUTH_TOKEN)"
            )
        self._sender = (
            {"messaging_service_sid": messaging_service_sid} if messaging_service_sid else {"from_": from_number}
        )
        # environment={} keeps TWILIO_EDGE/TWILIO_REGION from silently rewriting the host.
        self._client = Client(account_sid, auth_token, http_client=TwilioHttpClient(timeout=timeout_s), environment={})
        if api_base_url:
            self._client.api.base_url = api_base_url.rstrip("/")

    def refusal_reason(self, number: str) -> str | None:
        return refusal_reason(number)

    async def send(self, *, to: str, body: str, consent_ref: str) -> SentText:
        """One messages.create in a worker thread; see the module docstring for what each failure means."""
        reason = self.refusal_reason(to)
        if reason:
            raise TextRefusedError(reason)
        logger.info("sending text %s through Twilio", consent_ref)
        return await asyncio.to_thread(self._create, to, body)

    def _create(self, to: str, body: str) -> SentText:
        try:
            message = self._client.messages.create(to=to, body=body, **self._sender)
        except TwilioRestException as exc:
            if exc.code in _REFUSAL_CODES:
                raise TextRefusedError(f"Twilio 拒绝发送 / Twilio refused the text: {exc.code} {exc.msg}") from exc
            if exc.status >= 500:
                raise TextDeliveryUnknown(f"Twilio error {exc.status}: it may have been sent") from exc
            raise ProviderUnavailableError(f"Twilio error {exc.status} {exc.code}: {exc.msg}") from exc
        except (requests.Timeout, requests.ConnectionError) as exc:
            if _never_connected(exc):
                raise ProviderUnavailableError(f"Twilio unreachable: {exc!r}") from exc
            raise TextDeliveryUnknown(f"Twilio did not answer ({type(exc).__name__}): it may have been sent") from exc
        except (TwilioException, requests.RequestException) as exc:
            raise ProviderUnavailableError(f"Twilio unreachable: {exc!r}") from exc
        if not message.sid:
            raise TextDeliveryUnknown("Twilio answered without a message sid")
        return SentText(sid=message.sid, status=str(message.status or "queued"))


def _never_connected(exc: requests.RequestException) -> bool:
    """No connection was made, so the request never left (a timeout or drop after it did is ambiguous)."""
    reason = getattr(exc.args[0] if exc.args else None, "reason", None)
    return isinstance(exc, requests.ConnectTimeout) or isinstance(reason, NewConnectionError)
