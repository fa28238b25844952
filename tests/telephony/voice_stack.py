"""The voice side on top of the e2e stack: a Twilio simulator and an app instance with telephony configured.

Used by tests/e2e/test_voice.py and tests/bench/bench_voice.py. The voice app shares the stack's database
and Rasa; Rasa's actions run in the stack's app, so leads and opt-outs land in the same database.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from pydantic import SecretStr
from sqlalchemy.orm import Session, sessionmaker

from bot.app import create_app
from bot.campaigns.models import CampaignAttempt
from bot.campaigns.provider import CallRequest
from bot.db import make_engine, session_factory, transaction
from bot.settings import Settings
from telephony.factory import build_provider
from telephony.simulator import Scenario, SimCall, TwilioSimulator
from tests.campaigns.conftest import add_attempt, add_campaign, add_client
from tests.conftest import FakeAnswerer
from tests.support.servers import free_port, serve
from tests.support.stack import Stack

ACCOUNT = "AC" + "e2e0" * 8
TOKEN = "e2e-twilio-token"
ADVISOR_DESK = "+14155550199"


@dataclass
class VoiceStack:
    stack: Stack
    sim: TwilioSimulator
    voice_url: str
    sessions: sessionmaker[Session]
    settings: Settings

    def attempt(self, *, phone: str, client_id: str, language: str = "zh", attempt_no: int = 1) -> int:
        """A campaign client with one attempt about to be dialled (what the dialer writes before calling)."""
        with transaction(self.sessions) as session:
            campaign = add_campaign(session)
            client = add_client(session, campaign, client_id=client_id, phone=phone, language=language)
            return add_attempt(session, client, attempt_no=attempt_no, call_sid=None, state="dialing").id

    async def call(self, phone: str, attempt_id: int, *, echo: bool = True) -> SimCall:
        """Place the call through the real SDK (to the simulator) and wait until the callee hangs up."""
        request = CallRequest(
            to=phone,
            answer_url=f"{self.voice_url}/voice/answer?attempt={attempt_id}",
            status_url=f"{self.voice_url}/voice/status?attempt={attempt_id}",
        )
        placed = await build_provider(self.settings).place_call(request)
        call = self.sim.calls[placed.call_sid]
        assert await asyncio.to_thread(call.done.wait, 90), call.transcript_text()
        if echo:
            print(call.transcript_text())
        return call

    def row(self, attempt_id: int) -> dict[str, Any]:
        with self.sessions() as session:
            attempt = session.get(CampaignAttempt, attempt_id)
            assert attempt is not None
            return {c.name: getattr(attempt, c.name) for c in CampaignAttempt.__table__.columns}


@contextmanager
def voice_stack(
    stack: Stack, scenario: Scenario, *, real_knowledge: bool = False, **updates: Any
) -> Iterator[VoiceStack]:
    """The answers come from the stack's app, where Rasa's actions run. The voice app's own knowledge
    (what its guard verifies approved text against) is a fake unless `real_knowledge`: the ingested
    content on the stack's data directory, as in production (benchmarks). `updates`: more settings
    sections of the voice app (e.g. channels, messaging)."""
    sim = TwilioSimulator(account_sid=ACCOUNT, auth_token=TOKEN, scenario=scenario)
    port = free_port()
    with serve(sim.app) as sim_url:
        telephony = stack.settings.telephony.model_copy(
            update={
                "account_sid": ACCOUNT, "auth_token": SecretStr(TOKEN), "from_number": "+14155550100",
                "api_base_url": sim_url, "public_base_url": f"http://127.0.0.1:{port}",
                "transfer_number": ADVISOR_DESK, "transfer_hours": "00:00-23:59",
                "transfer_weekdays": [1, 2, 3, 4, 5, 6, 7],
            }
        )  # fmt: skip
        settings = stack.settings.model_copy(
            update={"telephony": telephony, "app": stack.settings.app.model_copy(update={"port": port}), **updates}
        )
        engine = make_engine(stack.settings.database_url)
        try:
            knowledge = None if real_knowledge else FakeAnswerer()
            with serve(create_app(settings, knowledge=knowledge), port=port) as voice_url:
                yield VoiceStack(stack, sim, voice_url, session_factory(engine), settings)
        finally:
            engine.dispose()
