"""The Twilio Messaging adapter through the real twilio SDK against the Twilio simulator (loopback HTTP)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from fastapi import FastAPI

from bot.errors import ConfigError, ProviderUnavailableError, TextRefusedError
from bot.messaging.twilio_sms import TwilioTextProvider
from telephony.simulator import Pickup, Scenario, TwilioSimulator
from tests.support.servers import free_port, serve

ACCOUNT, TOKEN, FROM = "AC" + "1" * 32, "sms-token", "+14155550100"
OPENER = "+85291110001"


@dataclass
class Sms:
    sim: TwilioSimulator
    url: str
    qr_url: str  # a stand-in for the WeCom simulator's QR pages
    opened: list[str]

    def provider(self, **overrides: object) -> TwilioTextProvider:
        values: dict[str, object] = {"account_sid": ACCOUNT, "auth_token": TOKEN, "from_number": FROM,
                                     "api_base_url": self.url, **overrides}  # fmt: skip
        return TwilioTextProvider(**values)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def sms() -> Iterator[Sms]:
    opened: list[str] = []
    qr = FastAPI()

    @qr.get("/sim/qr/{config_id}")
    async def scan(config_id: str) -> dict[str, str]:
        opened.append(config_id)
        return {"ok": config_id}

    scenario = Scenario(callees={OPENER: [Pickup(on_text="open_link", open_after_s=0)]},
                        refuse_prefixes=["+86", "+85299"])  # fmt: skip
    sim = TwilioSimulator(account_sid=ACCOUNT, auth_token=TOKEN, scenario=scenario)
    with serve(sim.app) as url, serve(qr) as qr_url:
        yield Sms(sim, url, qr_url, opened)


async def test_a_text_goes_out_through_the_sdk_and_a_scripted_callee_opens_its_link(sms: Sms) -> None:
    body = f"【示例银行】您好，这是您的专属理财经理王芳的企业微信二维码：{sms.qr_url}/sim/qr/cfg-1 用微信扫码即可添加。"
    sent = await sms.provider().send(to=OPENER, body=body, consent_ref="text:1")
    [text] = sms.sim.texts.texts_to(OPENER)
    assert (sent.sid, sent.status) == (text.sid, "queued")
    assert (text.from_, text.body) == (FROM, body)
    assert await asyncio.to_thread(text.done.wait, 10)
    assert sms.opened == ["cfg-1"] and text.opened == [(f"{sms.qr_url}/sim/qr/cfg-1", 200)]


async def test_a_messaging_service_can_send_instead_of_a_number(sms: Sms) -> None:
    await sms.provider(from_number=None, messaging_service_sid="MG" + "2" * 32).send(
        to="+85291110002", body="您好", consent_ref="text:2"
    )
    [text] = sms.sim.texts.texts_to("+85291110002")
    assert text.from_ == "MG" + "2" * 32


async def test_mainland_numbers_are_refused_before_any_request(sms: Sms) -> None:
    with pytest.raises(TextRefusedError, match=r"\+86"):
        await sms.provider().send(to="+8613812345678", body="您好", consent_ref="text:3")
    assert sms.sim.texts.texts_to("+8613812345678") == []


async def test_a_number_twilio_refuses_is_a_refusal_and_an_unreachable_twilio_sent_nothing(sms: Sms) -> None:
    with pytest.raises(TextRefusedError, match="21408"):
        await sms.provider().send(to="+85299990000", body="您好", consent_ref="text:4")
    closed = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(ProviderUnavailableError):
        await sms.provider(api_base_url=closed).send(to="+85291110003", body="您好", consent_ref="text:5")


def test_missing_settings_are_named() -> None:
    with pytest.raises(ConfigError, match=r"messaging.from_number .* ADVISOR_TELEPHONY__AUTH_TOKEN"):
        TwilioTextProvider(account_sid=ACCOUNT, auth_token=TOKEN)
    with pytest.raises(ConfigError, match=r"telephony\.account_sid"):
        TwilioTextProvider(account_sid="", auth_token=TOKEN, from_number=FROM)
