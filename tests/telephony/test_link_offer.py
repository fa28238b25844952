"""The advisor-link offer on a call: asked after interest, answered by the very next turn, and the caller
reaches the advisor whatever the answer (or a failure) was. The offers are a recording fake of the seam."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from fastapi import FastAPI

from bot.advisor_links.offers import OfferResult
from bot.channels.voice.offers import CallOffer
from bot.errors import ChannelError
from bot.language import Language
from bot.settings import Settings
from telephony.signature import SignatureChecker
from tests.telephony.conftest import PUBLIC, TOKEN, TZ, ZH_CLIENT, Voice, voice_app
from tests.telephony.memory_store import MemoryCallStore

CALL = {"CallSid": "CA0002", "AccountSid": "AC1", "From": "+14155550100", "To": "+14155550101"}
OFFER = "需要我把您的专属理财经理王芳的企业微信二维码链接用短信发给您吗？"


@dataclass
class Offers:
    """Offers the link after interest; records answers; `fail` makes every call raise."""

    answers: list[tuple[bool, str, str | None]] = field(default_factory=list)
    fail: bool = False

    async def offer_after_interest(self, *, attempt_id: int, call_sid: str) -> CallOffer | None:
        if self.fail:
            raise ChannelError("database away")
        return CallOffer(attempt_id, "A1", "zh", OFFER)

    async def answer_on_call(
        self, *, attempt_id: int, call_sid: str, accepted: bool, words: str, advisor_id: str | None = None
    ) -> OfferResult:
        if self.fail:
            raise ChannelError("WeCom away")
        self.answers.append((accepted, words, advisor_id))
        return OfferResult(status="sent" if accepted else "declined")

    def call_reply(self, result: OfferResult, *, language: Language, advisor_id: str) -> str:
        return f"[{result.status}]"


@pytest.fixture
async def offered(settings: Settings, dialogue_server: tuple[str, FastAPI]) -> AsyncIterator[tuple[Voice, Offers]]:
    url, fake = dialogue_server
    fake.state.received.clear()
    offers = Offers()
    store = MemoryCallStore(contexts={1: ZH_CLIENT})
    clock = [datetime(2026, 12, 1, 10, 0, tzinfo=TZ)]  # in transfer hours
    app, rasa = voice_app(settings, dialogue_url=url, public_base_url=PUBLIC, store=store, clock=clock,
                          link_offers=offers)  # fmt: skip
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as http:
        yield Voice(http, SignatureChecker(TOKEN, PUBLIC), store, fake, clock), offers
    await rasa.aclose()


async def _turn(voice: Voice, speech: str, *, offer: str | None = None) -> ET.Element:
    path = "/voice/turn?attempt=1" + (f"&silence=0&offer={offer}" if offer else "")
    response = await voice.post(path, {**CALL, "SpeechResult": speech})
    assert response.status_code == 200
    return ET.fromstring(response.text)


def _says(root: ET.Element) -> list[str]:
    return [el.text or "" for el in root.iter("Say")]


async def test_interest_asks_first_and_the_transfer_waits_for_the_answer(offered: tuple[Voice, Offers]) -> None:
    voice, _ = offered
    root = await _turn(voice, "帮我转人工")
    gather = root.find("Gather")
    assert gather is not None and root.find("Dial") is None
    assert _says(root)[-1] == OFFER
    assert parse_qs(urlsplit(gather.attrib["action"]).query)["offer"] == ["A1"], "the answer knows the advisor asked"


@pytest.mark.parametrize(("speech", "accepted"), [("好的，发给我吧", True), ("不用了，谢谢", False)])
async def test_a_yes_or_a_no_is_recorded_and_said_then_the_transfer(
    offered: tuple[Voice, Offers], speech: str, accepted: bool
) -> None:
    voice, offers = offered
    root = await _turn(voice, speech, offer="A1")
    assert offers.answers == [(accepted, speech, "A1")]
    assert _says(root)[0] == ("[sent]" if accepted else "[declined]") and root.find("Dial") is not None
    assert voice.store.outcomes[1].transferred
    assert voice.dialogue.state.received == [], "a yes or no to the offer is not a dialogue turn"


@pytest.mark.parametrize("speech", ["", "天天宝怎么赎回"])
async def test_silence_or_another_question_records_nothing_and_still_transfers(
    offered: tuple[Voice, Offers], speech: str
) -> None:
    voice, offers = offered
    root = await _turn(voice, speech, offer="A1")
    assert offers.answers == [] and root.find("Dial") is not None
    if speech:
        assert "TTB001" in " ".join(_says(root)), "the question is answered first"
        assert OFFER not in _says(root), "never offered twice"


async def test_a_failing_offer_never_drops_the_interested_caller(offered: tuple[Voice, Offers]) -> None:
    voice, offers = offered
    offers.fail = True
    assert (await _turn(voice, "帮我转人工")).find("Dial") is not None
    root = await _turn(voice, "好的", offer="A1")
    assert root.find("Dial") is not None and not any(s.startswith("[") for s in _says(root))
