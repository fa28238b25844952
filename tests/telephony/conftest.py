"""A voice app (the real /voice router and service) in front of a scripted dialogue served over loopback."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest
from fastapi import FastAPI
from pydantic import SecretStr

from bot.campaigns.calls import CallContext
from bot.channels.voice.offers import CallLinkOffers
from bot.channels.voice.openings import ApprovedOpenings
from bot.channels.voice.runtime import VoiceRuntime
from bot.channels.voice.service import VoiceService
from bot.channels.voice.texts import VoiceTexts
from bot.channels.voice.views import router
from bot.compliance.outgoing import OutgoingGuard
from bot.dialogue.client import RasaClient
from bot.dialogue.service import DialogueGateway
from bot.knowledge.content import read_products
from bot.knowledge.models import Product
from bot.settings import Settings, TelephonySettings
from telephony.signature import SIGNATURE_HEADER, SignatureChecker
from tests.support.servers import serve
from tests.telephony.fake_dialogue import fake_dialogue_app
from tests.telephony.memory_store import MemoryCallStore

KB = Path(__file__).resolve().parents[2] / "knowledge_base"
DEMO_CATALOGUE = [p.content.entry() for p in read_products(KB / "products.yml", KB) if isinstance(p.content, Product)]
TOKEN = "test-auth-token"
PUBLIC = "https://bank.example/advisor-proxy"  # not the address the app listens on: as behind a proxy
TZ = ZoneInfo("Asia/Shanghai")
ZH_CLIENT = CallContext(
    attempt_id=1, campaign_id=7, client_id="C001", name="张三", phone="+14155550101", language="zh",
    risk_level="C3", advisor_id="A1", script_id="script-dormant-reactivation-zh", segment="payroll", arm="treatment",
)  # fmt: skip
EN_CLIENT = CallContext(
    attempt_id=2, campaign_id=7, client_id="C002", name="Ann Lee", phone="+14155550102", language="en",
    risk_level=None, advisor_id=None, script_id=None, segment=None, arm="treatment",
)  # fmt: skip


@pytest.fixture(scope="module")
def dialogue_server() -> Iterator[tuple[str, FastAPI]]:
    fake = fake_dialogue_app()
    with serve(fake) as url:
        yield url, fake


@dataclass
class Voice:
    """The app under test, a signing client, and what the fakes saw."""

    http: httpx.AsyncClient
    checker: SignatureChecker
    store: MemoryCallStore
    dialogue: FastAPI
    clock: list[datetime]

    async def post(self, path: str, params: dict[str, str], *, sign: bool = True) -> httpx.Response:
        """POST like Twilio: signed over the public URL (base + path + query) and the form fields."""
        public_path, _, query = path.partition("?")
        url = self.checker.public_url(public_path, query)
        headers = {SIGNATURE_HEADER: self.checker.sign(url, params)} if sign else {}
        return await self.http.post(path, data=params, headers=headers)


def telephony_settings(settings: Settings, **overrides: object) -> TelephonySettings:
    return settings.telephony.model_copy(
        update={"auth_token": SecretStr(TOKEN), "public_base_url": PUBLIC, "turn_timeout_s": 0.5, **overrides}
    )


def voice_app(
    settings: Settings,
    *,
    dialogue_url: str,
    public_base_url: str,
    store: MemoryCallStore,
    clock: list[datetime],
    link_offers: CallLinkOffers | None = None,
) -> tuple[FastAPI, RasaClient]:
    """The /voice router with a VoiceService over a MemoryCallStore; the caller closes the RasaClient."""
    rasa = RasaClient(dialogue_url, token=None, timeout_s=5)
    gateway = DialogueGateway(rasa, guard=OutgoingGuard(products=list, audit=None), default_language="zh")
    config = telephony_settings(settings, transfer_number="+14155550199", public_base_url=public_base_url)
    texts = VoiceTexts.load().for_bank(settings.app.bank_name, settings.app.bank_name_en)
    service = VoiceService(
        gateway=gateway, store=store, texts=texts, settings=config, public_base_url=public_base_url,
        hotline="400-000-0000", now=lambda: clock[0],
        openings=ApprovedOpenings.load(settings.knowledge.source_dir, today=clock[0].date()),
        catalogue=lambda: DEMO_CATALOGUE, link_offers=link_offers,
    )  # fmt: skip

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        await rasa.aclose()  # in the serving loop, where its connections live

    app = FastAPI(lifespan=lifespan)
    app.state.voice = VoiceRuntime(checker=SignatureChecker(TOKEN, public_base_url), service=service)
    app.include_router(router)
    return app, rasa


@pytest.fixture
async def voice(settings: Settings, dialogue_server: tuple[str, FastAPI]) -> AsyncIterator[Voice]:
    url, fake = dialogue_server
    fake.state.received.clear()
    store = MemoryCallStore(contexts={1: ZH_CLIENT, 2: EN_CLIENT})
    clock = [datetime(2026, 12, 1, 10, 0, tzinfo=TZ)]  # a Tuesday, inside transfer hours
    app, rasa = voice_app(settings, dialogue_url=url, public_base_url=PUBLIC, store=store, clock=clock)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as http:
        yield Voice(http, SignatureChecker(TOKEN, PUBLIC), store, fake, clock)
    await rasa.aclose()
