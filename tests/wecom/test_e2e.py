"""End to end over loopback: our app (uvicorn, real lifespan) ↔ fake WeCom API ↔ fake Rasa REST.

The app is wired with exactly the lines bot/app.py gets (see the report / runtime docstring).
A variant against the real Rasa server can reuse this with the e2e marker.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from fastapi import FastAPI

from bot.channels.wecom import WeComRuntime
from bot.channels.wecom import router as wecom_router
from bot.db import migrate
from bot.dialogue.client import RasaClient
from bot.settings import ChannelsSettings, RasaSettings, Settings

from .conftest import make_gateway, wecom_settings
from .fakes import OPEN_KFID, FakeRasa, FakeWeCom, LoopbackServer, customer_text, kf_event
from .helpers import CRYPTO, PATH, kf_notice, sign


def build_app(settings: Settings) -> FastAPI:
    """A stand-in for bot/app.py's factory, reduced to what the WeCom channel needs."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        rasa = RasaClient(settings.rasa.url, token=None, timeout_s=settings.rasa.timeout_s)
        app.state.gateway = make_gateway(rasa)
        await asyncio.to_thread(migrate, settings.database_url)  # WeCom's tables are among the app's migrations
        app.state.wecom = WeComRuntime.from_settings(settings, gateway=app.state.gateway)
        await app.state.wecom.start()
        try:
            yield
        finally:
            await app.state.wecom.aclose()
            await rasa.aclose()

    app = FastAPI(lifespan=lifespan)
    app.include_router(wecom_router)
    return app


@pytest.fixture
def advisor_app(tmp_path: Path, wecom_api: FakeWeCom, rasa_api: FakeRasa) -> Iterator[str]:
    settings = Settings(
        data_dir=tmp_path,
        rasa=RasaSettings(port=urlsplit(rasa_api.url).port),  # type: ignore[attr-defined]
        channels=ChannelsSettings(wecom=wecom_settings(wecom_api.url, open_kfid=OPEN_KFID)),  # type: ignore[attr-defined]
    )
    with LoopbackServer(build_app(settings), lifespan="on") as server:
        yield server.url


async def _eventually(check: object, timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not check():  # type: ignore[operator]
        assert time.monotonic() < deadline, "timed out waiting for the channel"
        await asyncio.sleep(0.05)


async def test_url_check_over_loopback(advisor_app: str) -> None:
    ts, nonce = str(int(time.time())), "5150"
    echostr = CRYPTO.encrypt("6688")
    params = {
        "msg_signature": CRYPTO.signature(ts, nonce, echostr),
        "timestamp": ts,
        "nonce": nonce,
        "echostr": echostr,
    }
    async with httpx.AsyncClient(base_url=advisor_app) as http:
        response = await http.get(PATH, params=params)
    assert (response.status_code, response.text) == (200, "6688")


async def test_a_clients_chinese_question_gets_a_compliant_answer(
    advisor_app: str, wecom_api: FakeWeCom, rasa_api: FakeRasa
) -> None:
    now = time.time()
    wecom_api.kf_messages = [
        kf_event("ev1", "wmE2E", "enter_session", send_time=now, welcome_code="WELCOME-E2E"),
        customer_text("msg1", "wmE2E", "请问稳健型理财产品有什么风险？", send_time=now),
    ]
    callback = sign(kf_notice(token="ENC-E2E", create_time=now), timestamp=now, nonce="424242")
    async with httpx.AsyncClient(base_url=advisor_app) as http:
        started = time.monotonic()
        response = await http.post(PATH, params=callback.params, content=callback.body)
        assert (response.status_code, response.text) == (200, "")
        assert time.monotonic() - started < 1.0  # acknowledged long before WeCom's 5 s
    await _eventually(lambda: wecom_api.sent_texts())
    [answer] = wecom_api.sent_texts()
    assert "理财非存款、产品有风险、投资须谨慎" in answer
    [send] = wecom_api.calls_to("/cgi-bin/kf/send_msg")
    assert (send.body["touser"], send.body["open_kfid"]) == ("wmE2E", OPEN_KFID)
    [turn] = rasa_api.turns
    assert (turn["sender"], turn["message"]) == ("wecom:wmE2E", "请问稳健型理财产品有什么风险？")
    assert turn["metadata"]["channel"] == "wecom" and turn["metadata"]["language"] == "zh"
    [welcome] = wecom_api.calls_to("/cgi-bin/kf/send_msg_on_event")
    assert welcome.body["code"] == "WELCOME-E2E" and "AI" in welcome.body["text"]["content"]
