"""End to end: the real twilio SDK → the Twilio simulator → our /voice webhooks → the real Rasa → actions.

A second app instance serves the voice webhooks (telephony configured) on the e2e stack's database and
Rasa; Rasa's actions run in the stack's app, so leads and opt-outs land in the same database
(tests/telephony/voice_stack.py).
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest

from bot.campaigns.dialer import run_campaign
from bot.campaigns.models import CampaignAttempt, CampaignClient
from bot.contacts.models import DoNotContact
from bot.contacts.service import is_do_not_contact
from bot.db import transaction
from telephony.factory import build_provider
from telephony.signature import SIGNATURE_HEADER, SignatureChecker
from telephony.simulator import Pickup, Scenario
from tests.campaigns.conftest import T0, add_campaign, add_client
from tests.support.stack import E2E_API_KEY, Stack
from tests.telephony.voice_stack import ACCOUNT, ADVISOR_DESK, TOKEN, VoiceStack, voice_stack

pytestmark = pytest.mark.e2e


SCENARIO = Scenario(
    callees={
        # On a marketing call, interest in natural words is a lead and a transfer at once (never a hang-up).
        "+14155550301": [Pickup(says=["我有兴趣"])],
        "+14155550307": [Pickup(says=["我有兴趣，想了解一下稳健的理财"])],
        "+14155550308": [Pickup(says=["嗯 想听听风险低一点的"])],
        "+14155550309": [Pickup(says=["不是不感兴趣 你说说看"])],
        "+14155550302": [Pickup(says=["你好", "不要再给我打电话了"])],
        "+14155550303": [Pickup(answered_by="machine_end_beep")],
        "+14155550304": [Pickup(outcome="busy"), Pickup(says=["我在开会，明天下午3点再打"])],
        "+14155550305": [Pickup(says=["不要再给我打电话了"], duplicate_status=True)],
    }
)


@pytest.fixture(scope="module")
def voice(stack: Stack) -> Iterator[VoiceStack]:
    with voice_stack(stack, SCENARIO) as running:
        yield running


def leads(stack: Stack, client_key: str) -> list[dict[str, Any]]:
    response = httpx.get(
        f"{stack.app_url}/api/leads", params={"client_key": client_key}, headers={"X-API-Key": E2E_API_KEY}
    )
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


async def test_chinese_call_ends_in_a_lead_and_a_transfer(voice: VoiceStack) -> None:
    client_id = f"C-{uuid.uuid4().hex[:8]}"
    attempt = voice.attempt(phone="+14155550301", client_id=client_id)
    call = await voice.call("+14155550301", attempt)
    text = call.transcript_text()
    assert call.final_status == "completed", text
    # The approved script opens the call: AI disclosure and recording notice first, said once.
    assert "AI" in call.transcript[1] and "录音" in call.transcript[1]
    assert text.count("AI") == 1, text
    assert f"-- transfer to {ADVISOR_DESK}: completed" in text
    found = leads(voice.stack, client_id)  # keyed by the client id passed as metadata → slot
    assert {lead["channel"] for lead in found} == {"voice"}
    assert {lead["type"] for lead in found} == {"product_interest"}  # express_interest → lead, then <Dial>
    # the client's row in the campaign list gives the lead its advisor and the number to call back
    assert {(lead["advisor_id"], lead["advisor_rule"]) for lead in found} == {("a-1", "client_list")}
    assert {(lead["linked_client_id"], lead["contact_phone"]) for lead in found} == {(client_id, "+14155550301")}
    row = voice.row(attempt)
    assert (row["state"], row["answered_by"], row["call_sid"]) == ("completed", "human", call.sid)
    assert row["engaged"] and row["transferred"] and not row["opted_out"]


@pytest.mark.parametrize("number", ["+14155550307", "+14155550308", "+14155550309"])
async def test_an_interested_caller_in_natural_words_gets_a_lead_and_a_transfer_never_a_hang_up(
    voice: VoiceStack, number: str
) -> None:
    client_id = f"C-{uuid.uuid4().hex[:8]}"
    attempt = voice.attempt(phone=number, client_id=client_id)
    call = await voice.call(number, attempt)
    text = call.transcript_text()
    assert f"-- transfer to {ADVISOR_DESK}: completed" in text, text
    bot_lines = [line for line in call.transcript if line.startswith("bot:")]
    assert not any("打扰您了" in line or "再见" in line for line in bot_lines), "no goodbye before the transfer"
    found = leads(voice.stack, client_id)
    assert [lead["type"] for lead in found] == ["product_interest"], found
    row = voice.row(attempt)
    assert row["transferred"] and not row["opted_out"]


async def test_opt_out_mid_call_updates_the_do_not_contact_list(voice: VoiceStack) -> None:
    client_id = f"C-{uuid.uuid4().hex[:8]}"
    attempt = voice.attempt(phone="+14155550302", client_id=client_id)
    call = await voice.call("+14155550302", attempt)
    assert call.transcript[-1] == "-- hangup", call.transcript_text()
    with voice.sessions() as session:
        assert is_do_not_contact(session, client_key=client_id)
        assert is_do_not_contact(session, phone="+14155550302")
        evidence = session.query(DoNotContact.evidence).filter(DoNotContact.client_key == client_id).all()
    assert any("不要再给我打电话了" in e for (e,) in evidence)  # Rasa's action_opt_out, with the words
    assert voice.row(attempt)["opted_out"]


async def test_voicemail_plays_once_and_hangs_up(voice: VoiceStack) -> None:
    attempt = voice.attempt(phone="+14155550303", client_id=f"C-{uuid.uuid4().hex[:8]}")
    call = await voice.call("+14155550303", attempt)
    bot_lines = [line for line in call.transcript if line.startswith("bot:")]
    assert len(bot_lines) == 1 and "张三" not in bot_lines[0], call.transcript_text()
    assert call.transcript[-1] == "-- hangup"
    row = voice.row(attempt)
    assert row["voicemail"] and row["state"] == "completed" and row["answered_by"] == "machine_end_beep"


class _At:
    """The dialer's clock, fixed at one wall-clock instant (sleeps are real and short)."""

    def __init__(self, now: datetime) -> None:
        self._now = now

    def now(self) -> datetime:
        return self._now

    def monotonic(self) -> float:
        return time.monotonic()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(min(seconds, 0.05))


async def test_busy_then_answered_on_the_retry(voice: VoiceStack) -> None:
    """The campaign dialer places the call; busy schedules a retry; the next run's call is answered."""
    client_id = f"C-{uuid.uuid4().hex[:8]}"
    with transaction(voice.sessions) as session:
        client_row = add_client(session, add_campaign(session), client_id=client_id, phone="+14155550304")
        campaign_id, row_id = client_row.campaign_id, client_row.id
    provider = build_provider(voice.settings)

    async def run(at: datetime) -> None:
        await run_campaign(
            sessions=voice.sessions, provider=provider, settings=voice.settings, campaign_id=campaign_id,
            clock=_At(at), progress=False,
        )  # fmt: skip
        # With the clock in the future, the dialer may count a live call as stale and return before the
        # callee hangs up; the simulator plays the call out regardless.
        for call in voice.sim.calls_to("+14155550304"):
            assert await asyncio.to_thread(call.done.wait, 90), call.transcript_text()

    await run(T0 + timedelta(minutes=1))  # a Tuesday, 11:01 in the client's time zone
    first = voice.sim.calls_to("+14155550304")
    assert [c.final_status for c in first] == ["busy"]
    with voice.sessions() as session:
        client = session.get(CampaignClient, row_id)
        assert client is not None and client.call_state == "pending" and client.attempts == 1
        retry_at = client.next_call_at
    assert retry_at is not None
    await run(retry_at + timedelta(seconds=1))
    calls = voice.sim.calls_to("+14155550304")
    assert [c.final_status for c in calls] == ["busy", "completed"], calls[-1].transcript_text()
    print(calls[-1].transcript_text())
    with voice.sessions() as session:
        attempts = session.query(CampaignAttempt).filter(CampaignAttempt.campaign_client_id == row_id).all()
        rows = sorted((a.attempt_no, a.state, a.answered_by, a.callback_at is not None) for a in attempts)
    assert rows == [(1, "busy", None, False), (2, "completed", "human", True)]
    assert any(lead["type"] == "callback_request" for lead in leads(voice.stack, client_id))


async def test_unsigned_webhook_is_refused(voice: VoiceStack) -> None:
    attempt = voice.attempt(phone="+14155550306", client_id=f"C-{uuid.uuid4().hex[:8]}")
    async with httpx.AsyncClient(base_url=voice.voice_url) as http:
        for path in ("answer", "turn", "status"):
            response = await http.post(
                f"/voice/{path}?attempt={attempt}", data={"CallSid": "CAforged", "CallStatus": "completed"}
            )
            assert response.status_code == 403
    row = voice.row(attempt)
    assert row["state"] == "dialing" and row["call_sid"] is None


async def test_duplicate_status_callback_changes_nothing(voice: VoiceStack) -> None:
    attempt = voice.attempt(phone="+14155550305", client_id=f"C-{uuid.uuid4().hex[:8]}")
    call = await voice.call("+14155550305", attempt)
    assert [s for s, _ in call.statuses][-2:] == ["completed", "completed"]
    assert {code for _, code in call.statuses} == {204}
    before = voice.row(attempt)
    # Once more, signed like Twilio's retry: nothing moves, not even updated_at.
    params = {
        "CallSid": call.sid, "AccountSid": ACCOUNT, "From": "+14155550100", "To": "+14155550305",
        "CallStatus": "completed", "CallDuration": "11",
    }  # fmt: skip
    url = f"{voice.voice_url}/voice/status?attempt={attempt}"
    signature = SignatureChecker(TOKEN, voice.voice_url).sign(url, params)
    async with httpx.AsyncClient() as http:
        response = await http.post(url, data=params, headers={SIGNATURE_HEADER: signature})
    assert response.status_code == 204
    assert voice.row(attempt) == before
    assert before["state"] == "completed" and before["opted_out"]
