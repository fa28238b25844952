"""Fixtures: loopback fake WeCom and fake Rasa servers, a settable clock, runtimes and an ASGI client."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from pydantic import SecretStr

from bot.channels.wecom import WeComRuntime, router
from bot.channels.wecom.config import load_wecom_config
from bot.channels.wecom.external import ContactAddedHandler
from bot.channels.wecom.staff import LeadsProvider
from bot.compliance.outgoing import OutgoingGuard
from bot.dialogue.client import RasaClient
from bot.dialogue.service import DialogueGateway
from bot.settings import WeComSettings

from .fakes import APP_SECRET, CORP_ID, KF_SECRET, FakeRasa, FakeWeCom, LoopbackServer
from .helpers import AES_KEY, TOKEN

HOTLINE = "400-000-0000"


def make_gateway(rasa: RasaClient) -> DialogueGateway:
    """The real gateway, with the real outgoing compliance guard (no product catalogue, no audit file)."""
    return DialogueGateway(rasa, guard=OutgoingGuard(products=lambda: [], audit=None), default_language="zh")


class Clock:
    """A settable wall clock for the replay window, the 20 s welcome and the 48 h limit."""

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture(scope="session")
def _wecom_server() -> Iterator[tuple[FakeWeCom, str]]:
    fake = FakeWeCom()
    with LoopbackServer(fake.app()) as server:
        yield fake, server.url


@pytest.fixture(scope="session")
def _rasa_server() -> Iterator[tuple[FakeRasa, str]]:
    fake = FakeRasa()
    with LoopbackServer(fake.app()) as server:
        yield fake, server.url


@pytest.fixture
def wecom_api(_wecom_server: tuple[FakeWeCom, str]) -> FakeWeCom:
    fake, url = _wecom_server
    fake.reset()
    fake.url = url  # type: ignore[attr-defined]
    fake.contacts.qr_base = url
    return fake


@pytest.fixture
def rasa_api(_rasa_server: tuple[FakeRasa, str]) -> FakeRasa:
    fake, url = _rasa_server
    fake.reset()
    fake.url = url  # type: ignore[attr-defined]
    return fake


@pytest.fixture
def clock() -> Clock:
    return Clock(time.time())


def wecom_settings(api_base_url: str, **overrides: Any) -> WeComSettings:
    """A complete, valid configuration pointing at the fake WeCom."""
    values: dict[str, Any] = {
        "enabled": True,
        "corp_id": CORP_ID,
        "agent_id": 1000002,
        "api_base_url": api_base_url,
        "token": SecretStr(TOKEN),
        "encoding_aes_key": SecretStr(AES_KEY),
        "kf_secret": SecretStr(KF_SECRET),
        "app_secret": SecretStr(APP_SECRET),
        "timeout_s": 2.0,
        "retry_backoff_s": 0.01,
        "passive_reply_timeout_s": 1.0,
        "handoff_servicer_userid": "advisor_zhang",
    }
    values.update(overrides)
    return WeComSettings(**values)


MakeRuntime = Callable[..., Awaitable[WeComRuntime]]


@pytest.fixture
async def make_runtime(
    tmp_path: Path, db_url: str, wecom_api: FakeWeCom, rasa_api: FakeRasa, clock: Clock
) -> AsyncIterator[MakeRuntime]:
    """Build and start runtimes sharing one app database, migrated by Alembic only (call twice to simulate a
    restart, or two processes)."""
    opened: list[tuple[WeComRuntime, RasaClient]] = []

    async def factory(
        *, leads: LeadsProvider | None = None, contacts: ContactAddedHandler | None = None, **overrides: Any
    ) -> WeComRuntime:
        settings = wecom_settings(wecom_api.url, **overrides)  # type: ignore[attr-defined]
        config = load_wecom_config(
            settings, data_dir=tmp_path, database_url=db_url, hotline=HOTLINE, max_message_chars=2000
        )
        rasa = RasaClient(rasa_api.url, token=None, timeout_s=5.0)  # type: ignore[attr-defined]
        runtime = WeComRuntime(config, gateway=make_gateway(rasa), leads=leads, contacts=contacts, clock=clock)
        await runtime.start()
        opened.append((runtime, rasa))
        return runtime

    yield factory
    for runtime, rasa in opened:
        await runtime.aclose()
        await rasa.aclose()


@pytest.fixture
async def runtime(make_runtime: MakeRuntime) -> WeComRuntime:
    return await make_runtime()


@asynccontextmanager
async def asgi_client(runtime: WeComRuntime | None) -> AsyncIterator[httpx.AsyncClient]:
    """Our callback endpoint in-process, mounted the way bot/app.py mounts it."""
    app = FastAPI()
    app.include_router(router)
    app.state.wecom = runtime
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://advisor.test") as client:
        yield client


@pytest.fixture
async def http(runtime: WeComRuntime) -> AsyncIterator[httpx.AsyncClient]:
    async with asgi_client(runtime) as client:
        yield client
