"""The real twilio SDK (TwilioProvider) against the simulator, which plays scripted callees through the app."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pytest
from fastapi import FastAPI

from bot.campaigns.provider import CallRequest
from bot.errors import CallRefusedError, ProviderUnavailableError
from bot.settings import load_settings
from telephony.simulator import Pickup, Scenario, SimCall, TwilioSimulator
from telephony.twilio_provider import TwilioProvider
from tests.support.servers import free_port, serve
from tests.telephony.conftest import EN_CLIENT, TOKEN, TZ, ZH_CLIENT, voice_app
from tests.telephony.fake_dialogue import fake_dialogue_app
from tests.telephony.memory_store import MemoryCallStore

ACCOUNT = "AC" + "0" * 32
DEMO = Path(__file__).parents[2] / "telephony" / "simulator" / "demo.yml"


@dataclass
class World:
    sim: TwilioSimulator
    sim_url: str
    app_url: str
    store: MemoryCallStore
    dialogue: FastAPI

    def provider(self, token: str = TOKEN) -> TwilioProvider:
        return TwilioProvider(
            account_sid=ACCOUNT, auth_token=token, from_number="+14155550100", api_base_url=self.sim_url
        )

    def request(self, to: str, attempt: int) -> CallRequest:
        return CallRequest(
            to=to,
            answer_url=f"{self.app_url}/voice/answer?attempt={attempt}",
            status_url=f"{self.app_url}/voice/status?attempt={attempt}",
        )

    async def call(self, to: str, attempt: int) -> SimCall:
        placed = await self.provider().place_call(self.request(to, attempt))
        await asyncio.to_thread(lambda: self.sim.calls[placed.call_sid].done.wait(30))
        return self.sim.calls[placed.call_sid]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    settings = load_settings(data_dir=tmp_path_factory.mktemp("sim-var"))
    contexts = {n: ZH_CLIENT.__class__(**{**ZH_CLIENT.__dict__, "attempt_id": n}) for n in range(1, 8)}
    contexts[9] = EN_CLIENT.__class__(**{**EN_CLIENT.__dict__, "attempt_id": 9})
    store = MemoryCallStore(contexts=contexts)
    clock = [datetime(2026, 12, 1, 10, 0, tzinfo=TZ)]
    fake = fake_dialogue_app()
    port = free_port()
    with serve(fake) as dialogue_url:
        app, _ = voice_app(
            settings, dialogue_url=dialogue_url, public_base_url=f"http://127.0.0.1:{port}", store=store, clock=clock
        )
        sim = TwilioSimulator(account_sid=ACCOUNT, auth_token=TOKEN, scenario=Scenario.load(DEMO))
        with serve(app, port=port) as app_url, serve(sim.app) as sim_url:
            yield World(sim, sim_url, app_url, store, fake)


async def test_interested_caller_is_transferred_through_the_real_sdk(world: World) -> None:
    call = await world.call("+14155550101", 1)
    text = call.transcript_text()
    assert call.final_status == "completed", text
    assert "AI" in text and "录音" in text and "caller: 帮我转人工" in text
    assert "-- transfer to +14155550199: completed" in text
    assert world.store.outcomes[1].transferred and world.store.outcomes[1].engaged
    assert [s for s, _ in call.statuses] == ["initiated", "ringing", "in-progress", "completed"]
    assert {code for _, code in call.statuses} == {204}
    assert all(code == 200 for path, _, code in call.timings if path != "/voice/status")
    sent = call.create_params  # what calls.create put on the wire
    assert sent["StatusCallbackEvent"] == ["initiated", "ringing", "answered", "completed"]
    assert (sent["MachineDetection"], sent["AsyncAmd"], sent["Timeout"], sent["TimeLimit"]) == (
        ["DetectMessageEnd"], ["false"], ["30"], ["600"],
    )  # fmt: skip
    assert sent["From"] == ["+14155550100"] and sent["Url"] == [f"{world.app_url}/voice/answer?attempt=1"]


async def test_opt_out_ends_the_call(world: World) -> None:
    call = await world.call("+14155550102", 2)
    assert call.transcript[-1] == "-- hangup", call.transcript_text()
    assert world.store.outcomes[2].opted_out


async def test_answering_machine_hears_the_voicemail_once(world: World) -> None:
    call = await world.call("+14155550103", 3)
    bot_lines = [line for line in call.transcript if line.startswith("bot:")]
    assert len(bot_lines) == 1 and "400-000-0000" in bot_lines[0], call.transcript_text()
    assert world.store.outcomes[3].voicemail


async def test_busy_then_answered_on_the_second_call(world: World) -> None:
    first = await world.call("+14155550104", 4)
    assert first.final_status == "busy" and [s for s, _ in first.statuses][-1] == "busy"
    second = await world.call("+14155550104", 5)
    assert second.final_status == "completed", second.transcript_text()
    assert world.store.outcomes[5].callback_at == datetime(2026, 12, 2, 15, 0, tzinfo=TZ)


async def test_silent_callee_and_a_duplicated_status_callback(world: World) -> None:
    call = await world.call("+14155550105", 6)
    assert call.transcript.count("caller: (silence)") == 2, call.transcript_text()
    assert [s for s, _ in call.statuses][-2:] == ["completed", "completed"]
    assert world.store.statuses[6].count((call.sid, "completed")) == 1


async def test_provider_refuses_mainland_china_before_any_request(world: World) -> None:
    provider = world.provider()
    assert "2023-11-30" in (provider.refusal_reason("+8613800138000") or "")
    assert provider.refusal_reason("+14155550101") is None
    assert provider.refusal_reason("13800138000") is not None
    before = len(world.sim.calls)
    with pytest.raises(CallRefusedError, match="中国大陆"):
        await provider.place_call(world.request("+8613800138000", 7))
    assert len(world.sim.calls) == before


async def test_a_failed_create_is_reported_once_and_never_retried(world: World) -> None:
    world.sim.scenario.callees["+14155550199"] = [Pickup(rest_error=503)]
    with pytest.raises(ProviderUnavailableError, match="503"):
        await world.provider().place_call(world.request("+14155550199", 7))
    assert world.sim.create_requests["+14155550199"] == 1
    assert world.sim.calls_to("+14155550199") == []
    # A 4xx about our own setup is not the callee's fault: unavailable, not refused.
    world.sim.scenario.callees["+14155550198"] = [Pickup(rest_error=400)]
    with pytest.raises(ProviderUnavailableError, match="21210"):
        await world.provider().place_call(world.request("+14155550198", 7))
    # Twilio refusing the number itself (geo permissions, code 21215) is a refusal, with the reason.
    world.sim.scenario.refuse_prefixes.append("+1415555019")
    with pytest.raises(CallRefusedError, match="21215"):
        await world.provider().place_call(world.request("+14155550197", 7))


async def test_vendor_errors_become_ours(world: World) -> None:
    with pytest.raises(ProviderUnavailableError, match="401"):
        await world.provider(token="wrong").place_call(world.request("+14155550101", 7))
    port = free_port()
    unreachable = TwilioProvider(
        account_sid=ACCOUNT, auth_token=TOKEN, from_number="+1415", api_base_url=f"http://127.0.0.1:{port}"
    )
    with pytest.raises(ProviderUnavailableError, match="unreachable"):
        await unreachable.place_call(world.request("+14155550101", 7))
