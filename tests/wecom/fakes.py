"""Local stand-ins served over real loopback HTTP: a fake WeCom API and a fake Rasa REST channel."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from bot.channels.wecom.simulator import ContactBook

CORP_ID = "ww1436e0e65a779aee"
KF_SECRET = "kf-secret-for-tests"
APP_SECRET = "app-secret-for-tests"
OPEN_KFID = "wkAJ2GCAAASSm4_FhToWMFea0xAFfd3Q"
COMPLIANT_ANSWER = (
    "您好！稳健型理财产品的风险等级多为R2，适合风险承受能力为C2及以上的客户。理财非存款、产品有风险、投资须谨慎。"
)


class LoopbackServer:
    """Runs an ASGI app with uvicorn in a thread, on a free 127.0.0.1 port."""

    def __init__(self, app: Any, *, lifespan: str = "off") -> None:
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._sock.getsockname()[1]}"
        config = uvicorn.Config(
            app, log_level="warning", lifespan=lifespan, ws="none", http="h11", timeout_graceful_shutdown=1
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [self._sock]}, daemon=True)

    def __enter__(self) -> LoopbackServer:
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("loopback server did not start")
            time.sleep(0.01)
        return self

    def __exit__(self, *_: object) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)
        self._sock.close()


@dataclass
class Call:
    """One request the fake WeCom received (token checks included)."""

    path: str
    query: dict[str, str]
    body: dict[str, Any]
    errcode: int = 0


@dataclass
class Failure:
    """A scripted misbehaviour for the next call to a path."""

    status: int | None = None
    errcode: int | None = None
    delay_s: float = 0.0
    retry_after: str | None = None
    then_succeed: bool = False  # after the delay, act normally (a send delivered but answered too late)


@dataclass
class FakeWeCom:
    """The parts of qyapi.weixin.qq.com this channel uses, recording every call."""

    calls: list[Call] = field(default_factory=list)
    token_fetches: int = 0
    valid_tokens: set[str] = field(default_factory=set)
    kf_messages: list[dict[str, Any]] = field(default_factory=list)
    page_size: int = 1000
    failures: defaultdict[str, list[Failure]] = field(default_factory=lambda: defaultdict(list))
    used_codes: set[str] = field(default_factory=set)
    session_state: dict[tuple[str, str], int] = field(default_factory=dict)
    # 客户联系: 「联系我」 links, welcome codes and welcomes (the same book the shipped simulator keeps)
    contacts: ContactBook = field(default_factory=ContactBook)
    _issued_codes: int = 0

    def reset(self) -> None:
        self.__init__()  # type: ignore[misc]

    def expire_tokens(self) -> None:
        """Every access_token issued so far stops working (WeCom answers 42001)."""
        self.valid_tokens.clear()

    def fail_next(self, path: str, failure: Failure) -> None:
        self.failures[path].append(failure)

    def calls_to(self, path: str) -> list[Call]:
        return [c for c in self.calls if c.path == path]

    def contact_added(self, config_id: str, external_userid: str) -> str:
        """A client scans the link: the add_external_contact event WeCom would post (decrypted XML)."""
        event = self.contacts.scan(config_id, external_userid=external_userid, corp_id=CORP_ID)
        assert event is not None, f"no live link {config_id}"
        return event

    def sent_texts(self, path: str = "/cgi-bin/kf/send_msg") -> list[str]:
        return [c.body["text"]["content"] for c in self.calls_to(path) if c.errcode == 0]

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.get("/cgi-bin/gettoken")
        async def gettoken(corpid: str, corpsecret: str) -> dict[str, Any]:
            if corpid != CORP_ID or corpsecret not in {KF_SECRET, APP_SECRET}:
                return {"errcode": 40001, "errmsg": "invalid credential"}
            self.token_fetches += 1
            token = f"token-{self.token_fetches}"
            self.valid_tokens.add(token)
            return {"errcode": 0, "errmsg": "ok", "access_token": token, "expires_in": 7200}

        @app.post("/cgi-bin/{path:path}")
        async def api(path: str, request: Request) -> Response:
            call = Call("/cgi-bin/" + path, dict(request.query_params), await request.json())
            self.calls.append(call)
            if self.failures[call.path]:
                failure = self.failures[call.path].pop(0)
                await asyncio.sleep(failure.delay_s)
                if not failure.then_succeed:
                    call.errcode = failure.errcode or -2
                    if failure.status is not None:
                        headers = {"Retry-After": failure.retry_after} if failure.retry_after else {}
                        return Response("upstream trouble", status_code=failure.status, headers=headers)
                    return JSONResponse({"errcode": failure.errcode, "errmsg": "scripted"})
            if call.query.get("access_token") not in self.valid_tokens:
                call.errcode = 42001
                return JSONResponse({"errcode": 42001, "errmsg": "access_token expired"})
            result = self._handle(call)
            call.errcode = int(result.get("errcode", 0))
            return JSONResponse(result)

        return app

    def _handle(self, call: Call) -> dict[str, Any]:
        body = call.body
        answer = self.contacts.handle(call.path, body)
        if answer is not None:
            return answer
        if call.path == "/cgi-bin/kf/sync_msg":
            start = int(str(body.get("cursor") or "c0")[1:])
            limit = min(int(body.get("limit", 1000)), self.page_size)
            chunk = self.kf_messages[start : start + limit]
            end = start + len(chunk)
            more = int(end < len(self.kf_messages))
            return {"errcode": 0, "next_cursor": f"c{end}", "has_more": more, "msg_list": chunk}
        if call.path == "/cgi-bin/kf/send_msg":
            if self.session_state.get((body["open_kfid"], body["touser"]), 0) not in {0, 1}:
                return {"errcode": 95018, "errmsg": "send msg session status invalid"}
            return {"errcode": 0, "msgid": f"sent-{len(self.calls)}"}
        if call.path == "/cgi-bin/kf/send_msg_on_event":
            if body["code"] in self.used_codes:
                return {"errcode": 95017, "errmsg": "code already used"}
            self.used_codes.add(body["code"])
            return {"errcode": 0}
        if call.path == "/cgi-bin/kf/service_state/trans":
            if body["service_state"] == 3 and not body.get("servicer_userid"):
                return {"errcode": 95014, "errmsg": "servicer_userid required"}
            self.session_state[(body["open_kfid"], body["external_userid"])] = body["service_state"]
            self._issued_codes += 1
            return {"errcode": 0, "msg_code": f"MSGCODE{self._issued_codes}"}
        if call.path == "/cgi-bin/message/send":
            return {"errcode": 0, "invaliduser": "", "msgid": f"app-{len(self.calls)}"}
        return {"errcode": 404, "errmsg": "unknown path in fake"}


def customer_text(msgid: str, user: str, text: str, *, send_time: float, kfid: str = OPEN_KFID) -> dict[str, Any]:
    return {
        "msgid": msgid,
        "open_kfid": kfid,
        "external_userid": user,
        "send_time": int(send_time),
        "origin": 3,
        "msgtype": "text",
        "text": {"content": text},
    }


def customer_image(msgid: str, user: str, *, send_time: float, kfid: str = OPEN_KFID) -> dict[str, Any]:
    return {
        "msgid": msgid,
        "open_kfid": kfid,
        "external_userid": user,
        "send_time": int(send_time),
        "origin": 3,
        "msgtype": "image",
        "image": {"media_id": "MEDIA"},
    }


def kf_event(msgid: str, user: str, event_type: str, *, send_time: float, **fields: Any) -> dict[str, Any]:
    return {
        "msgid": msgid,
        "send_time": int(send_time),
        "origin": 4,
        "msgtype": "event",
        "event": {"event_type": event_type, "open_kfid": OPEN_KFID, "external_userid": user, **fields},
    }


@dataclass
class FakeRasa:
    """Rasa's REST channel: scripted answers, recorded turns, optional delay or outage."""

    turns: list[dict[str, Any]] = field(default_factory=list)
    replies: list[dict[str, Any]] = field(default_factory=lambda: [{"text": COMPLIANT_ANSWER}])
    delay_s: float = 0.0
    down: bool = False

    def reset(self) -> None:
        self.__init__()  # type: ignore[misc]

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.post("/webhooks/rest/webhook")
        async def webhook(request: Request) -> Response:
            self.turns.append(await request.json())
            await asyncio.sleep(self.delay_s)
            if self.down:
                return Response("boom", status_code=500)
            return JSONResponse(self.replies)

        return app
