"""A local WeCom stand-in for demos and tests: 客户联系 links, welcome messages, and clients who add an advisor.

`advisor wecom simulate` serves it (point channels.wecom.api_base_url at it); tests/wecom/fakes.py uses
the same ContactBook, so the demo and the tests agree on what WeCom does:
  - add_contact_way (type 1, scene 2, one member, state at most 30 characters) answers a config_id and a
    QR code URL on this server; update_contact_way and del_contact_way act on it;
  - scanning a QR (GET /sim/qr/{config_id}) plays a client adding the advisor: this server posts a
    signed, encrypted add_external_contact callback (UserID, ExternalUserID, State, WelcomeCode) to the
    app, exactly as WeCom would;
  - send_welcome_msg accepts each WelcomeCode once, within 20 s of the add.
Error codes are this stand-in's choice where WeCom's documentation names none.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from bot.channels.wecom.crypto import WeComCrypto

WELCOME_WINDOW_S = 20.0
INVALID_PARAMETER = 40058
INVALID_CONFIG_ID = 41044
WELCOME_REFUSED = 41051  # "externaluser has started chatting": a used or late code


def contact_added_xml(
    *, corp_id: str, user_id: str, external_userid: str, state: str, welcome_code: str, create_time: int
) -> str:
    """The decrypted add_external_contact event, as WeCom sends it to a self-built app's callback URL."""
    return (
        f"<xml><ToUserName><![CDATA[{corp_id}]]></ToUserName><FromUserName><![CDATA[sys]]></FromUserName>"
        f"<CreateTime>{create_time}</CreateTime><MsgType><![CDATA[event]]></MsgType>"
        "<Event><![CDATA[change_external_contact]]></Event><ChangeType><![CDATA[add_external_contact]]></ChangeType>"
        f"<UserID><![CDATA[{user_id}]]></UserID><ExternalUserID><![CDATA[{external_userid}]]></ExternalUserID>"
        f"<State><![CDATA[{state}]]></State><WelcomeCode><![CDATA[{welcome_code}]]></WelcomeCode></xml>"
    )


@dataclass
class SimContactWay:
    """One 「联系我」 link as WeCom holds it."""

    config_id: str
    user: str
    state: str
    skip_verify: bool
    remark: str
    deleted: bool = False


@dataclass
class Welcome:
    """A send_welcome_msg request and whether it was accepted."""

    code: str
    content: str
    accepted: bool


@dataclass
class ContactBook:
    """The 客户联系 half of WeCom: links, welcome codes and the welcomes sent (thread-safe)."""

    qr_base: str = "http://127.0.0.1"
    clock: Callable[[], float] = time.time
    on_event: Callable[[str], None] | None = None  # one line per link, add and welcome (the demo prints them)
    ways: dict[str, SimContactWay] = field(default_factory=dict)
    welcomes: list[Welcome] = field(default_factory=list)
    _codes: dict[str, float] = field(default_factory=dict)  # code -> when issued
    _used: set[str] = field(default_factory=set)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def live(self) -> list[SimContactWay]:
        with self._lock:
            return [w for w in self.ways.values() if not w.deleted]

    def accepted_welcomes(self) -> list[Welcome]:
        with self._lock:
            return [w for w in self.welcomes if w.accepted]

    def handle(self, path: str, body: dict[str, Any]) -> dict[str, Any] | None:
        """The answer to an externalcontact/* call, or None when `path` is not one of them."""
        handlers = {
            "/cgi-bin/externalcontact/add_contact_way": self._add,
            "/cgi-bin/externalcontact/update_contact_way": self._update,
            "/cgi-bin/externalcontact/del_contact_way": self._delete,
            "/cgi-bin/externalcontact/send_welcome_msg": self._welcome,
        }
        handler = handlers.get(path)
        if handler is None:
            return None
        with self._lock:
            return handler(body)

    def _add(self, body: dict[str, Any]) -> dict[str, Any]:
        users, state = body.get("user") or [], str(body.get("state") or "")
        if body.get("type") != 1 or body.get("scene") != 2 or len(users) != 1 or len(state) > 30:
            return {"errcode": INVALID_PARAMETER, "errmsg": "invalid Request Parameter"}
        way = SimContactWay(
            config_id=secrets.token_hex(16), user=str(users[0]), state=state,
            skip_verify=bool(body.get("skip_verify", True)), remark=str(body.get("remark") or ""),
        )  # fmt: skip
        self.ways[way.config_id] = way
        self.tell(f"link for {way.user} (state {state}): {self.qr_url(way.config_id)}")
        return {"errcode": 0, "errmsg": "ok", "config_id": way.config_id, "qr_code": self.qr_url(way.config_id)}

    def _update(self, body: dict[str, Any]) -> dict[str, Any]:
        way = self.ways.get(str(body.get("config_id")))
        if way is None or way.deleted:
            return {"errcode": INVALID_CONFIG_ID, "errmsg": "invalid config_id"}
        if "user" in body:
            way.user = str(body["user"][0])
        way.state = str(body.get("state", way.state))
        way.skip_verify = bool(body.get("skip_verify", way.skip_verify))
        return {"errcode": 0, "errmsg": "ok"}

    def _delete(self, body: dict[str, Any]) -> dict[str, Any]:
        way = self.ways.get(str(body.get("config_id")))
        if way is None or way.deleted:
            return {"errcode": INVALID_CONFIG_ID, "errmsg": "invalid config_id"}
        way.deleted = True
        return {"errcode": 0, "errmsg": "ok"}

    def _welcome(self, body: dict[str, Any]) -> dict[str, Any]:
        code, content = str(body.get("welcome_code") or ""), str((body.get("text") or {}).get("content") or "")
        issued = self._codes.get(code)
        ok = issued is not None and code not in self._used and self.clock() - issued <= WELCOME_WINDOW_S
        self.welcomes.append(Welcome(code, content, ok))
        self.tell(f"welcome {'sent' if ok else 'refused (used or later than 20 s)'}: {content}")
        if not ok:
            return {"errcode": WELCOME_REFUSED, "errmsg": "externaluser has started chatting"}
        self._used.add(code)
        return {"errcode": 0, "errmsg": "ok"}

    def tell(self, line: str) -> None:
        """Report one event to whoever watches (the simulator's terminal)."""
        if self.on_event is not None:
            self.on_event(line)

    def qr_url(self, config_id: str) -> str:
        return f"{self.qr_base.rstrip('/')}/sim/qr/{config_id}"

    def scan(self, config_id: str, *, external_userid: str, corp_id: str) -> str | None:
        """A client adds the link's advisor: the event WeCom would send (None for an unknown or deleted link)."""
        with self._lock:
            way = self.ways.get(config_id)
            if way is None or way.deleted:
                return None
            code = "WELCOME" + secrets.token_hex(12)
            now = self.clock()
            self._codes[code] = now
        return contact_added_xml(
            corp_id=corp_id, user_id=way.user, external_userid=external_userid, state=way.state,
            welcome_code=code, create_time=int(now),
        )  # fmt: skip


class WeComSimulator:
    """The dev server: gettoken, 客户联系 calls, staff messages, and QR scans that call the app back."""

    def __init__(
        self,
        *,
        crypto: WeComCrypto,
        corp_id: str,
        secrets_: set[str],
        callback_url: str,
        base_url: str,
        on_event: Callable[[str], None] | None = None,
    ) -> None:
        self.book = ContactBook(qr_base=base_url, on_event=on_event)
        self.sent_messages: list[dict[str, Any]] = []
        self._crypto = crypto
        self._corp_id = corp_id
        self._secrets = secrets_
        self._callback_url = callback_url
        self._tokens: set[str] = set()
        self.app = self._build()

    def _build(self) -> FastAPI:
        app = FastAPI(title="WeCom simulator")

        @app.get("/cgi-bin/gettoken")
        async def gettoken(corpid: str, corpsecret: str) -> dict[str, Any]:
            if corpid != self._corp_id or corpsecret not in self._secrets:
                return {"errcode": 40001, "errmsg": "invalid credential"}
            token = secrets.token_hex(16)
            self._tokens.add(token)
            return {"errcode": 0, "errmsg": "ok", "access_token": token, "expires_in": 7200}

        @app.post("/cgi-bin/{path:path}")
        async def api(path: str, access_token: str, request: Request) -> JSONResponse:
            if access_token not in self._tokens:
                return JSONResponse({"errcode": 42001, "errmsg": "access_token expired"})
            body = await request.json()
            answer = self.book.handle("/cgi-bin/" + path, body)
            if answer is None and path == "message/send":
                self.sent_messages.append(body)
                answer = {"errcode": 0, "errmsg": "ok"}
            return JSONResponse(answer or {"errcode": 404, "errmsg": f"{path} is not simulated"})

        @app.get("/sim/qr/{config_id}")
        async def scan(config_id: str, external_userid: str | None = None) -> JSONResponse:
            user = external_userid or "wm" + secrets.token_hex(14)
            status = await self.add_contact(config_id, external_userid=user)
            return JSONResponse(
                {"external_userid": user, "callback_status": status}, status_code=200 if status else 404
            )

        return app

    async def add_contact(self, config_id: str, *, external_userid: str) -> int | None:
        """Play a client adding the link's advisor: post the signed event to the app; its HTTP status."""
        plain = self.book.scan(config_id, external_userid=external_userid, corp_id=self._corp_id)
        if plain is None:
            return None
        timestamp, nonce = str(int(time.time())), str(secrets.randbelow(10**9))
        encrypted = self._crypto.encrypt(plain)
        params = {"msg_signature": self._crypto.signature(timestamp, nonce, encrypted), "timestamp": timestamp,
                  "nonce": nonce}  # fmt: skip
        body = (
            f"<xml><ToUserName><![CDATA[{self._corp_id}]]></ToUserName><Encrypt><![CDATA[{encrypted}]]></Encrypt></xml>"
        )
        async with httpx.AsyncClient(timeout=10) as http:
            response = await http.post(self._callback_url, params=params, content=body.encode())
        self.book.tell(f"{external_userid} added the advisor of {config_id}: the app answered {response.status_code}")
        return response.status_code
