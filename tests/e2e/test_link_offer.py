"""Issue 16's loop end to end, with the real Rasa: an interested caller is offered the advisor's WeCom link
by text, the text goes only after a yes and carries the link, and WeCom's signed add_external_contact
callback with that link's state records `wecom_added` for the client and arm, with one welcome.

The voice app (Twilio simulator, fake WeCom over loopback, Twilio Messaging to the simulator) shares the
e2e stack's database and Rasa; Rasa's actions run in the stack's app (tests/telephony/voice_stack.py).
"""

from __future__ import annotations

import asyncio
import itertools
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import httpx
import pytest
from pydantic import SecretStr
from sqlalchemy import func, select

from bot.advisor_links.models import ContactWayLink, FriendAdd
from bot.campaigns.models import CampaignOutcome
from bot.channels.wecom.simulator import contact_added_xml
from bot.messaging.models import TextMessage
from bot.settings import ChannelsSettings, MessagingSettings
from telephony.simulator import Pickup, Scenario
from tests.support.stack import E2E_BANK, Stack
from tests.telephony.voice_stack import ADVISOR_DESK, VoiceStack, voice_stack
from tests.wecom.conftest import wecom_settings
from tests.wecom.fakes import CORP_ID, FakeWeCom, LoopbackServer
from tests.wecom.helpers import PATH, sign

pytestmark = pytest.mark.e2e

YES, NO, SILENT, ASKS = "+14155550401", "+14155550402", "+14155550403", "+14155550404"
SCENARIO = Scenario(
    callees={
        YES: [Pickup(says=["我有兴趣", "好的，发给我吧"])],
        NO: [Pickup(says=["我有兴趣", "不用了，谢谢"])],
        SILENT: [Pickup(says=["我有兴趣", ""])],
        ASKS: [Pickup(says=["我有兴趣", "帮我转人工"])],
    }
)
ADVISOR, ADVISOR_NAME = "a-1", "王芳"  # the client rows' advisor_id (tests/campaigns/conftest.add_client)
STATE_KEY = "e2e-state-key-0123456789abcdef"
WELCOME = "/cgi-bin/externalcontact/send_welcome_msg"
_nonces = itertools.count(7000)


@dataclass
class Loop:
    voice: VoiceStack
    wecom: FakeWeCom


@pytest.fixture(scope="module")
def loop(stack: Stack) -> Iterator[Loop]:
    fake = FakeWeCom()
    with LoopbackServer(fake.app()) as wecom_server:
        names = {ADVISOR: {"zh": ADVISOR_NAME, "en": "Fang Wang"}}
        wecom = wecom_settings(wecom_server.url, state_key=SecretStr(STATE_KEY), advisor_names=names)
        channels = ChannelsSettings(wecom=wecom)
        with voice_stack(stack, SCENARIO, channels=channels, messaging=MessagingSettings(provider="twilio")) as voice:
            yield Loop(voice, fake)


def _bot_lines(transcript: list[str]) -> list[str]:
    return [line for line in transcript if line.startswith("bot:")]


def _texts(loop: Loop, client_id: str) -> list[TextMessage]:
    with loop.voice.sessions() as session:
        return list(session.scalars(select(TextMessage).where(TextMessage.client_key == client_id)))


async def _post(loop: Loop, event_xml: str, *, signature: str | None = None) -> httpx.Response:
    """POST the event as WeCom does (encrypted, signed; `signature` replaces ours, as a forger's would)."""
    callback = sign(event_xml, timestamp=time.time(), nonce=str(next(_nonces)))
    if signature is not None:
        callback.params["msg_signature"] = signature
    async with httpx.AsyncClient(timeout=10) as http:
        return await http.post(f"{loop.voice.voice_url}{PATH}", params=callback.params, content=callback.body)


def _counts(loop: Loop) -> tuple[int, int, int]:
    with loop.voice.sessions() as session:
        adds = session.scalar(select(func.count()).select_from(FriendAdd)) or 0
        outcomes = session.scalar(
            select(func.count()).select_from(CampaignOutcome).where(CampaignOutcome.name == "wecom_added")
        )
    return adds, outcomes or 0, len(loop.wecom.calls_to(WELCOME))


async def _eventually(check: Callable[[], bool], timeout_s: float = 20.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not check():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.1)


async def test_a_yes_texts_the_link_and_the_signed_add_records_wecom_added_once(loop: Loop) -> None:
    client_id = f"C-{uuid.uuid4().hex[:8]}"
    attempt = loop.voice.attempt(phone=YES, client_id=client_id)
    call = await loop.voice.call(YES, attempt)
    transcript = call.transcript
    text = call.transcript_text()
    # The offer, in the approved wording naming the advisor, comes after the interest and before the yes.
    offer_at = next(i for i, line in enumerate(transcript) if "企业微信二维码链接用短信发给您吗" in line)
    assert ADVISOR_NAME in transcript[offer_at] and transcript.index("caller: 好的，发给我吧") > offer_at, text
    assert transcript.index("caller: 我有兴趣") < offer_at
    assert any("短信已经发给您了" in line for line in transcript[offer_at + 1 :]), text
    assert f"-- transfer to {ADVISOR_DESK}: completed" in text, "the interested caller still reaches the advisor"

    [sms] = loop.voice.sim.texts.texts_to(YES)
    with loop.voice.sessions() as session:
        link = session.scalar(select(ContactWayLink).where(ContactWayLink.client_id == client_id))
    assert link is not None and link.qr_code and link.advisor_id == ADVISOR
    assert link.qr_code in sms.body and ADVISOR_NAME in sms.body and E2E_BANK["bank_name"] in sms.body
    [row] = _texts(loop, client_id)
    assert (row.status, row.accepted, row.consent_evidence) == ("sent", True, "好的，发给我吧")
    assert row.consent_conversation == f"voice:{call.sid}" and ADVISOR_NAME in row.consent_text

    # The client scans the code: WeCom posts add_external_contact with the link's state, signed and encrypted.
    before = _counts(loop)
    event = loop.wecom.contact_added(link.config_id or "", external_userid=f"wm{uuid.uuid4().hex[:16]}")
    assert f"<State><![CDATA[{link.state}]]></State>" in event
    assert (await _post(loop, event)).status_code == 200
    await _eventually(lambda: len(loop.wecom.calls_to(WELCOME)) > before[2])
    with loop.voice.sessions() as session:
        [add] = session.scalars(select(FriendAdd).where(FriendAdd.client_id == client_id)).all()
        [outcome] = session.scalars(
            select(CampaignOutcome).where(CampaignOutcome.client_id == client_id, CampaignOutcome.name == "wecom_added")
        ).all()
    assert (add.campaign_id, add.arm, add.advisor_id) == (link.campaign_id, "treatment", ADVISOR)
    assert (outcome.campaign_id, outcome.source, outcome.value) == (link.campaign_id, "callback", 1.0)
    [welcome] = loop.wecom.calls_to(WELCOME)[before[2] :]
    content = welcome.body["text"]["content"]
    assert welcome.errcode == 0 and ADVISOR_NAME in content and E2E_BANK["bank_name"] in content and "AI" in content
    await _eventually(lambda: _add_welcomed(loop, client_id))
    after = _counts(loop)
    assert after == (before[0] + 1, before[1] + 1, before[2] + 1)

    # WeCom retries the same event (a new delivery, newly signed): nothing changes, no second welcome.
    assert (await _post(loop, event)).status_code == 200
    await asyncio.sleep(1.0)
    assert _counts(loop) == after
    # A forged callback (not signed with our token): refused before anything is read.
    assert (await _post(loop, event, signature="0" * 40)).status_code == 403
    # Signed as WeCom would, but with a state we never signed (a made-up or edited one): nothing recorded.
    fake_state = contact_added_xml(
        corp_id=CORP_ID, user_id=ADVISOR, external_userid="wmFORGED", state=link.state[:-2] + "xx",
        welcome_code="WELCOMEFORGED", create_time=int(time.time()),
    )  # fmt: skip
    assert (await _post(loop, fake_state)).status_code == 200
    await asyncio.sleep(1.0)
    assert _counts(loop) == after


def _add_welcomed(loop: Loop, client_id: str) -> bool:
    with loop.voice.sessions() as session:
        status = session.scalar(select(FriendAdd.welcome_status).where(FriendAdd.client_id == client_id))
    return status == "sent"


@pytest.mark.parametrize(
    ("phone", "recorded"),
    [(NO, "declined"), (SILENT, None), (ASKS, None)],
    ids=["declines", "silent", "asks-for-a-person"],
)
async def test_no_text_without_a_yes_and_the_caller_still_reaches_the_advisor(
    loop: Loop, phone: str, recorded: str | None
) -> None:
    client_id = f"C-{uuid.uuid4().hex[:8]}"
    attempt = loop.voice.attempt(phone=phone, client_id=client_id)
    call = await loop.voice.call(phone, attempt)
    text = call.transcript_text()
    assert any("企业微信二维码链接用短信发给您吗" in line for line in _bot_lines(call.transcript)), text
    assert f"-- transfer to {ADVISOR_DESK}: completed" in text, text
    assert loop.voice.sim.texts.texts_to(phone) == []
    assert [t.status for t in _texts(loop, client_id)] == ([recorded] if recorded else [])
    offers = [line for line in _bot_lines(call.transcript) if "企业微信二维码链接用短信发给您吗" in line]
    assert len(offers) == 1, "offered once per call"
