"""The one place that calls WeCom's HTTP API: timeouts, access tokens and classified retries.

Retry policy. A failure is retried (exponential backoff with jitter, `Retry-After` honoured) only
when WeCom certainly did not act on the request:
  - connect errors, connect/pool timeouts: the request never left;
  - HTTP 429 / 503: the server refused it;
  - errcode -1 (系统繁忙): WeCom answered that it did nothing.
Read/write timeouts, dropped connections and other 5xx are *ambiguous*: the request may have
been delivered. Reads (gettoken, sync_msg) and calls that mean the same when repeated
(update_contact_way, del_contact_way) are retried anyway; sends (send_msg, send_msg_on_event,
service_state/trans, message/send, send_welcome_msg) and add_contact_way are not, because a retry
could show the customer the same message twice, spend one of the five replies WeCom allows in 48 h,
or create a second link whose config_id we never learn. They raise DeliveryUnknown, and the caller
writes an audit entry (or a row state) instead. An expired token (errcode 40014 / 42001) is refreshed
once and the call repeated: WeCom rejected the first attempt, so a send is safe to repeat.
"""

from __future__ import annotations

import asyncio
import logging
import random
import re
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

import httpx

from bot.channels.wecom.errors import DeliveryUnknown, WeComApiError
from bot.channels.wecom.models import ContactWay, SyncMsgPage
from bot.errors import ChannelError

logger = logging.getLogger(__name__)

# kf: 微信客服; app: the advisors' self-built app; contact: 客户联系 (externalcontact/*).
Credential = Literal["kf", "app", "contact"]
TOKEN_ERRCODES = frozenset({40014, 42001})  # invalid / expired access_token
SYSTEM_BUSY = -1
MAX_BACKOFF_S = 30.0
_SECRET_QUERY = re.compile(r"(access_token|corpsecret)=[^&\s\"']+")


class RedactSecrets(logging.Filter):
    """httpx logs full request URLs at INFO; WeCom puts access_token and corpsecret in the query."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            # Only text can carry a secret; numbers stay numbers so "%d" still formats.
            record.args = tuple(
                a if isinstance(a, int | float) else _SECRET_QUERY.sub(r"\1=***", str(a)) for a in record.args
            )
        return True


@dataclass
class _Token:
    value: str
    expires_at: float


class _Transient(Exception):
    """Internal: a failure worth another attempt, with the server's requested delay."""

    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.retry_after = retry_after


def _retry_after(response: httpx.Response) -> float | None:
    try:
        return max(0.0, float(response.headers["retry-after"]))
    except (KeyError, ValueError):
        return None


class WeComClient:
    """Typed WeCom endpoints over one httpx client; credentials are plain values given at construction."""

    def __init__(
        self,
        *,
        base_url: str,
        corp_id: str,
        secrets: Mapping[Credential, str],
        timeout_s: float,
        retry_attempts: int,
        retry_backoff_s: float,
        transport: httpx.AsyncBaseTransport | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._corp_id = corp_id
        self._secrets = dict(secrets)
        self._attempts = retry_attempts
        self._backoff_s = retry_backoff_s
        self._sleep = sleep
        self._tokens: dict[Credential, _Token] = {}
        self._token_locks: dict[Credential, asyncio.Lock] = {name: asyncio.Lock() for name in self._secrets}
        self._http = httpx.AsyncClient(
            base_url=base_url,
            timeout=httpx.Timeout(timeout_s, connect=min(timeout_s, 3.0)),
            transport=transport,
        )

    async def aclose(self) -> None:
        await self._http.aclose()

    # --- kf (微信客服) -------------------------------------------------------------------------

    async def kf_sync_msg(self, *, open_kfid: str, cursor: str | None, token: str | None, limit: int) -> SyncMsgPage:
        """One page of kf messages after `cursor` (a read: safe to retry)."""
        body: dict[str, Any] = {"open_kfid": open_kfid, "limit": limit}
        if cursor:
            body["cursor"] = cursor
        if token:
            body["token"] = token
        data = await self._call("/cgi-bin/kf/sync_msg", credential="kf", body=body, idempotent=True)
        return SyncMsgPage.model_validate(data)

    async def kf_send_text(self, *, open_kfid: str, external_userid: str, content: str) -> str:
        """Send one text to a customer; returns WeCom's msgid."""
        body = {
            "touser": external_userid,
            "open_kfid": open_kfid,
            "msgtype": "text",
            "text": {"content": content},
        }
        data = await self._call("/cgi-bin/kf/send_msg", credential="kf", body=body, idempotent=False)
        return str(data.get("msgid", ""))

    async def kf_send_text_on_event(self, *, code: str, content: str) -> None:
        """Answer an event (welcome or hand-off code); each code works once."""
        body = {"code": code, "msgtype": "text", "text": {"content": content}}
        await self._call("/cgi-bin/kf/send_msg_on_event", credential="kf", body=body, idempotent=False)

    async def kf_trans_state(
        self, *, open_kfid: str, external_userid: str, service_state: int, servicer_userid: str | None
    ) -> str | None:
        """Move a kf session to another state; returns the msg_code for a hand-off notice, if any."""
        body: dict[str, Any] = {
            "open_kfid": open_kfid,
            "external_userid": external_userid,
            "service_state": service_state,
        }
        if servicer_userid:
            body["servicer_userid"] = servicer_userid
        data = await self._call("/cgi-bin/kf/service_state/trans", credential="kf", body=body, idempotent=False)
        code = data.get("msg_code")
        return str(code) if code else None

    # --- self-built app (advisors) -------------------------------------------------------------

    async def app_send_text(self, *, agent_id: int, touser: str, content: str) -> None:
        """Send a text to a staff member through the self-built app."""
        body = {"touser": touser, "msgtype": "text", "agentid": agent_id, "text": {"content": content}}
        await self._call("/cgi-bin/message/send", credential="app", body=body, idempotent=False)

    # --- 客户联系 (external contact): 「联系我」 links and the welcome message -----------------------

    async def add_contact_way(
        self, *, user: str, state: str, skip_verify: bool, remark: str | None = None
    ) -> ContactWay:
        """A 「联系我」 QR link for one member (type 1, scene 2); WeCom answers its config_id and QR URL.

        Not idempotent: a retry after an ambiguous failure could create a second link we cannot delete.
        """
        body: dict[str, Any] = {"type": 1, "scene": 2, "skip_verify": skip_verify, "state": state, "user": [user]}
        if remark:
            body["remark"] = remark[:30]  # WeCom: at most 30 characters
        data = await self._call(
            "/cgi-bin/externalcontact/add_contact_way", credential="contact", body=body, idempotent=False
        )
        return ContactWay.model_validate(data)

    async def update_contact_way(
        self,
        *,
        config_id: str,
        user: str | None = None,
        state: str | None = None,
        skip_verify: bool | None = None,
        remark: str | None = None,
    ) -> None:
        """Change a link's member, state or verification (the same values twice mean the same: retried)."""
        changes = {"user": [user] if user else None, "state": state, "skip_verify": skip_verify, "remark": remark}
        body = {"config_id": config_id, **{k: v for k, v in changes.items() if v is not None}}
        await self._call(
            "/cgi-bin/externalcontact/update_contact_way", credential="contact", body=body, idempotent=True
        )

    async def del_contact_way(self, *, config_id: str) -> None:
        """Delete a link (frees one of the corp's API-configured 「联系我」)."""
        await self._call(
            "/cgi-bin/externalcontact/del_contact_way",
            credential="contact",
            body={"config_id": config_id},
            idempotent=True,
        )

    async def send_welcome_msg(self, *, welcome_code: str, content: str) -> None:
        """The new contact's welcome message: one use per code, within 20 s of the event."""
        body = {"welcome_code": welcome_code, "text": {"content": content}}
        await self._call("/cgi-bin/externalcontact/send_welcome_msg", credential="contact", body=body, idempotent=False)

    # --- core ----------------------------------------------------------------------------------

    async def _call(
        self, path: str, *, credential: Credential, body: dict[str, Any], idempotent: bool
    ) -> dict[str, Any]:
        """POST with an access token; an invalid or expired token is refreshed once."""
        refreshed = False
        while True:
            token = await self._access_token(credential)
            data = await self._request("POST", path, params={"access_token": token}, json=body, idempotent=idempotent)
            errcode = int(data.get("errcode", 0) or 0)
            if errcode in TOKEN_ERRCODES and not refreshed:
                logger.info("WeCom %s: access_token rejected (errcode %s); refreshing once", path, errcode)
                self._forget_token(credential, token)
                refreshed = True
                continue
            if errcode:
                raise WeComApiError(path, errcode, str(data.get("errmsg", "")))
            return data

    async def _access_token(self, credential: Credential) -> str:
        """A cached access_token, fetched when missing or within its last minutes."""
        if credential not in self._secrets:
            raise ChannelError(f"no secret configured for WeCom {credential} calls")
        async with self._token_locks[credential]:
            cached = self._tokens.get(credential)
            if cached is not None and cached.expires_at > time.monotonic():
                return cached.value
            params = {"corpid": self._corp_id, "corpsecret": self._secrets[credential]}
            data = await self._request("GET", "/cgi-bin/gettoken", params=params, json=None, idempotent=True)
            errcode = int(data.get("errcode", 0) or 0)
            if errcode or not data.get("access_token"):
                hint = " (check corp_id and the secret)" if errcode in {40001, 40013, 40091} else ""
                raise WeComApiError("/cgi-bin/gettoken", errcode, f"{data.get('errmsg', '')}{hint}")
            lifetime = float(data.get("expires_in", 7200))
            expires_at = time.monotonic() + max(lifetime - 300.0, lifetime / 2)
            self._tokens[credential] = _Token(str(data["access_token"]), expires_at)
            return self._tokens[credential].value

    def _forget_token(self, credential: Credential, token: str) -> None:
        cached = self._tokens.get(credential)
        if cached is not None and cached.value == token:  # another call may have refreshed it already
            del self._tokens[credential]

    async def _request(
        self, method: str, path: str, *, params: dict[str, Any], json: dict[str, Any] | None, idempotent: bool
    ) -> dict[str, Any]:
        """One logical request, retried per the module's policy."""
        for attempt in range(1, self._attempts + 1):
            try:
                return await self._attempt(method, path, params=params, json=json, idempotent=idempotent)
            except _Transient as failure:
                if attempt == self._attempts:
                    raise ChannelError(f"WeCom {path} failed after {attempt} attempts: {failure}") from failure
                delay = self._backoff_s * 2 ** (attempt - 1) * (0.5 + random.random() / 2)  # jitter, not crypto
                if failure.retry_after is not None:
                    if failure.retry_after > MAX_BACKOFF_S:
                        raise ChannelError(f"WeCom {path} asked us to wait {failure.retry_after:.0f}s") from failure
                    delay = max(delay, failure.retry_after)
                logger.warning("WeCom %s: %s; retry %d in %.2fs", path, failure, attempt, delay)
                await self._sleep(min(delay, MAX_BACKOFF_S))
        raise AssertionError("unreachable")  # pragma: no cover - the loop returns or raises

    async def _attempt(
        self, method: str, path: str, *, params: dict[str, Any], json: dict[str, Any] | None, idempotent: bool
    ) -> dict[str, Any]:
        """A single HTTP exchange, classified: a result, _Transient, or a definitive error."""
        try:
            response = await self._http.request(method, path, params=params, json=json)
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
            raise _Transient(f"not connected ({type(exc).__name__})") from exc
        except httpx.TransportError as exc:
            if not idempotent:
                raise DeliveryUnknown(f"WeCom {path}: {type(exc).__name__}; it may have been delivered") from exc
            raise _Transient(type(exc).__name__) from exc
        status = response.status_code
        if status in {429, 503}:
            raise _Transient(f"HTTP {status}", _retry_after(response))
        if status >= 500:
            if not idempotent:
                raise DeliveryUnknown(f"WeCom {path}: HTTP {status}; it may have been delivered")
            raise _Transient(f"HTTP {status}", _retry_after(response))
        if status >= 400:
            raise WeComApiError(path, status, f"HTTP {status}")
        try:
            data = response.json()
        except ValueError as exc:
            if not idempotent:
                raise DeliveryUnknown(f"WeCom {path}: unreadable answer; it may have been delivered") from exc
            raise _Transient("unreadable JSON") from exc
        if not isinstance(data, dict):
            raise WeComApiError(path, -2, "answer is not a JSON object")
        if data.get("errcode") == SYSTEM_BUSY:
            raise _Transient("errcode -1 (system busy)")
        return data
