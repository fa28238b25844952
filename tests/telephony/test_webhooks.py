"""The voice webhooks: signatures, TwiML shape, silence, voicemail, endings, degradation, idempotent status."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import datetime

import httpx
from fastapi import FastAPI

from bot.channels.voice.views import router
from bot.channels.voice.webhook import MAX_BODY_BYTES
from bot.error_handlers import install_error_handlers
from bot.settings import Settings
from telephony.signature import SIGNATURE_HEADER, SignatureChecker
from tests.telephony.conftest import PUBLIC, TZ, Voice, voice_app
from tests.telephony.memory_store import MemoryCallStore

CALL = {"CallSid": "CA0001", "AccountSid": "AC1", "From": "+14155550100", "To": "+14155550101"}


def parse(response_text: str) -> ET.Element:
    return ET.fromstring(response_text)


def says(root: ET.Element) -> list[str]:
    return [el.text or "" for el in root.iter("Say")]


def test_signature_matches_the_documented_vector() -> None:
    checker = SignatureChecker("12345", "https://mycompany.com")
    params = {
        "CallSid": "CA1234567890ABCDE", "Caller": "+14158675309", "Digits": "1234",
        "From": "+14158675309", "To": "+18005551212",
    }  # fmt: skip
    url = checker.public_url("/myapp.php", "foo=1&bar=2")
    assert url == "https://mycompany.com/myapp.php?foo=1&bar=2"
    assert checker.valid(url, params, "RSOYDt4T1cUTdK1PDd93/VVr8B8=")
    assert checker.sign(url, params) == "RSOYDt4T1cUTdK1PDd93/VVr8B8="
    assert not checker.valid(url, {**params, "Digits": "1235"}, "RSOYDt4T1cUTdK1PDd93/VVr8B8=")
    assert not checker.valid(url, params, None)


async def test_unsigned_and_forged_webhooks_are_refused(voice: Voice) -> None:
    for path in (
        "/voice/answer?attempt=1",
        "/voice/turn?attempt=1",
        "/voice/status?attempt=1",
        "/voice/dial?attempt=1",
    ):
        response = await voice.post(path, {**CALL, "CallStatus": "completed"}, sign=False)
        assert response.status_code == 403, path
    forged = await voice.http.post(
        "/voice/answer?attempt=1", data=CALL, headers={"X-Twilio-Signature": "RSOYDt4T1cUTdK1PDd93/VVr8B8="}
    )
    assert forged.status_code == 403
    # Signed over the address the app sees rather than the public URL Twilio called: refused too.
    local = SignatureChecker("test-auth-token", "http://testserver")
    url = local.public_url("/voice/answer", "attempt=1")
    wrong_base = await voice.http.post(
        "/voice/answer?attempt=1", data=CALL, headers={"X-Twilio-Signature": local.sign(url, CALL)}
    )
    assert wrong_base.status_code == 403
    # A signed query string cannot be altered (attempt=2 would be someone else's call).
    signature = voice.checker.sign(voice.checker.public_url("/voice/answer", "attempt=1"), CALL)
    tampered = await voice.http.post("/voice/answer?attempt=2", data=CALL, headers={"X-Twilio-Signature": signature})
    assert tampered.status_code == 403
    assert voice.dialogue.state.received == []


async def test_signed_but_malformed_form_is_a_clear_400(voice: Voice) -> None:
    response = await voice.post("/voice/answer?attempt=1", {"From": "+1"})
    assert response.status_code == 400
    assert "CallSid" in response.text
    response = await voice.post("/voice/answer?attempt=x", CALL)
    assert response.status_code == 422 and response.json()["detail"][0]["field"] == "attempt"


async def test_answer_opens_through_rasa_and_gathers_mandarin_speech(voice: Voice) -> None:
    response = await voice.post("/voice/answer?attempt=1", {**CALL, "AnsweredBy": "human"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/xml")
    root = parse(response.text)
    gather = root.find("Gather")
    assert gather is not None and root.find("Hangup") is None
    assert gather.attrib["input"] == "speech"
    assert gather.attrib["language"] == "cmn-Hans-CN"
    assert gather.attrib["speechTimeout"] == "auto"
    assert gather.attrib["actionOnEmptyResult"] == "true"
    assert gather.attrib["bargeIn"] == "true"
    assert "转人工" in gather.attrib["hints"]
    assert {"季享", "朝夕", "大额存单"} <= set(gather.attrib["hints"].split(",")), "the live catalogue's names"
    assert gather.attrib["action"] == f"{PUBLIC}/voice/turn?attempt=1&silence=0"
    spoken = gather.findall("Say")
    assert {s.attrib["voice"] for s in spoken} == {"Polly.Zhiyu-Neural"}
    assert {s.attrib["language"] for s in spoken} == {"cmn-CN"}
    # Rasa's call_opening, worded by the campaign's approved script (knowledge_base, CMP-2026-0379), verbatim;
    # the script carries the AI disclosure, so the chat disclosure from the session start is not said twice.
    assert (spoken[0].text or "").startswith("您好，我是示例银行的AI智能助手，本次通话将录音。您在示例银行的账户")
    assert sum("AI" in (s.text or "") for s in spoken) == 1
    sent = voice.dialogue.state.received[0]
    assert sent["sender"] == "voice:CA0001"
    assert sent["message"] == "/call_start"
    meta = sent["metadata"]
    assert (meta["client_id"], meta["phone"], meta["risk_level"], meta["language"], meta["channel"]) == (
        "C001", "+14155550101", "C3", "zh", "voice",
    )  # fmt: skip
    assert (meta["campaign_id"], meta["arm"], meta["segment"]) == (7, "treatment", "payroll")


async def test_english_client_gets_english_recognition_and_voice(voice: Voice) -> None:
    response = await voice.post("/voice/answer?attempt=2", {**CALL, "CallSid": "CA0002"})
    root = parse(response.text)
    gather = root.find("Gather")
    assert gather is not None and gather.attrib["language"] == "en-US"
    assert {s.attrib["language"] for s in root.iter("Say")} == {"en-US"}
    # No campaign script: the default approved opening (script-opening-call-en), which discloses the AI itself.
    assert says(root)[0].startswith("Hello, this is Demo Bank. I'm Demo Bank's AI assistant")
    assert "recorded" in says(root)[0] and len(says(root)[0]) > 160


async def test_silence_reprompts_once_then_says_goodbye(voice: Voice) -> None:
    first = parse((await voice.post("/voice/turn?attempt=1&silence=0", {**CALL, "SpeechResult": ""})).text)
    gather = first.find("Gather")
    assert gather is not None and gather.attrib["action"].endswith("silence=1")
    assert "没有听清" in says(first)[0]
    second = parse((await voice.post("/voice/turn?attempt=1&silence=1", {**CALL, "SpeechResult": " "})).text)
    assert second.find("Gather") is None and second.find("Hangup") is not None
    assert "再见" in says(second)[0]
    assert voice.dialogue.state.received == []  # silence never reaches the dialogue


async def test_answering_machine_gets_the_voicemail_once_without_personal_data(voice: Voice) -> None:
    response = await voice.post("/voice/answer?attempt=1", {**CALL, "AnsweredBy": "machine_end_beep"})
    root = parse(response.text)
    assert root.find("Gather") is None and root.find("Hangup") is not None
    spoken = says(root)
    assert len(spoken) == 1 and "400-000-0000" in spoken[0]
    assert "张三" not in response.text and "C001" not in response.text and "C3" not in response.text
    assert voice.dialogue.state.received == []
    assert voice.store.outcomes[1].voicemail


async def test_opt_out_hangs_up_and_is_recorded(voice: Voice) -> None:
    root = parse((await voice.post("/voice/turn?attempt=1", {**CALL, "SpeechResult": "以后不要再打了"})).text)
    assert root.find("Hangup") is not None and root.find("Gather") is None
    assert "不再打扰" in says(root)[0]
    assert voice.store.outcomes[1].opted_out
    assert voice.dialogue.state.received[0]["metadata"]["language"] == "zh"


async def test_not_interested_and_goodbye_end_the_call(voice: Voice) -> None:
    for words in ("我没兴趣", "好的再见"):
        root = parse((await voice.post("/voice/turn?attempt=1", {**CALL, "SpeechResult": words})).text)
        assert root.find("Hangup") is not None, words
    assert voice.store.outcomes[1].engaged and not voice.store.outcomes[1].opted_out


async def test_busy_books_the_named_callback_time(voice: Voice) -> None:
    root = parse((await voice.post("/voice/turn?attempt=1", {**CALL, "SpeechResult": "在忙，明天下午3点再打"})).text)
    assert root.find("Hangup") is not None
    assert voice.store.outcomes[1].callback_at == datetime(2026, 12, 2, 15, 0, tzinfo=TZ)


async def test_the_callback_time_the_dialogue_booked_is_the_one_recorded(voice: Voice) -> None:
    root = parse((await voice.post("/voice/turn?attempt=1", {**CALL, "SpeechResult": "后天上午再说吧"})).text)
    assert root.find("Hangup") is not None and "11:30" in says(root)[0]
    assert voice.store.outcomes[1].callback_at == datetime(2026, 12, 3, 11, 30, tzinfo=TZ)


async def test_handoff_transfers_in_business_hours(voice: Voice) -> None:
    root = parse((await voice.post("/voice/turn?attempt=1", {**CALL, "SpeechResult": "帮我转人工"})).text)
    dial = root.find("Dial")
    assert dial is not None and dial.findtext("Number") == "+14155550199"
    assert dial.attrib["action"] == f"{PUBLIC}/voice/dial?attempt=1"
    assert voice.store.outcomes[1].transferred
    unanswered = parse((await voice.post("/voice/dial?attempt=1", {**CALL, "DialCallStatus": "no-answer"})).text)
    assert unanswered.find("Hangup") is not None and "回电" in says(unanswered)[0]
    assert voice.store.outcomes[1].callback_at is not None


async def test_handoff_after_hours_books_a_callback_instead(voice: Voice) -> None:
    voice.clock[0] = datetime(2026, 12, 4, 21, 0, tzinfo=TZ)  # Friday evening
    root = parse((await voice.post("/voice/turn?attempt=1", {**CALL, "SpeechResult": "帮我转人工"})).text)
    assert root.find("Dial") is None and root.find("Hangup") is not None
    outcome = voice.store.outcomes[1]
    assert not outcome.transferred
    assert outcome.callback_at == datetime(2026, 12, 7, 9, 0, tzinfo=TZ)  # Monday, when the desk opens
    assert any("12月07日 09:00" in line for line in says(root)), "the one promise says when"


async def test_answers_are_made_speakable_and_keep_risk_wording(voice: Voice) -> None:
    root = parse((await voice.post("/voice/turn?attempt=1", {**CALL, "SpeechResult": "天天宝怎么赎回"})).text)
    assert root.find("Gather") is not None
    text = " ".join(says(root))
    assert "**" not in text and "http" not in text and "[TTB001]" not in text
    assert "每日可赎回" in text and "投资须谨慎" in text


async def test_a_slow_dialogue_degrades_to_a_canned_line_and_listens_again(voice: Voice) -> None:
    root = parse((await voice.post("/voice/turn?attempt=1", {**CALL, "SpeechResult": "慢慢说"})).text)
    gather = root.find("Gather")
    assert gather is not None
    assert "系统有点忙" in says(root)[0]


async def test_unknown_attempt_hangs_up_politely(voice: Voice) -> None:
    root = parse((await voice.post("/voice/answer?attempt=99", CALL)).text)
    assert root.find("Hangup") is not None and root.find("Gather") is None


async def test_duplicate_status_callback_changes_nothing(voice: Voice) -> None:
    status = {**CALL, "CallStatus": "completed", "CallDuration": "42", "AnsweredBy": "human"}
    first = await voice.post("/voice/status?attempt=1", status)
    before = dict(voice.store.statuses)
    again = await voice.post("/voice/status?attempt=1", status)
    assert first.status_code == again.status_code == 204
    assert voice.store.statuses == before == {1: [("CA0001", "completed")]}


async def test_a_signed_attempt_out_of_range_is_a_422_naming_it(voice: Voice) -> None:
    for attempt in (str(2**64), str(2**63), "0", "-1"):
        response = await voice.post(f"/voice/answer?attempt={attempt}", CALL)
        assert response.status_code == 422, attempt
        assert response.json()["detail"][0]["field"] == "attempt"
    assert voice.dialogue.state.received == []


async def test_intent_syntax_in_what_a_caller_says_never_reaches_rasa(voice: Voice) -> None:
    """Only our own code opens a call with /call_start; a recognised "/opt_out" is just refused."""
    response = await voice.post("/voice/turn?attempt=1&silence=0", {**CALL, "SpeechResult": "/opt_out"})
    root = parse(response.text)
    assert root.find("Gather") is not None and root.find("Hangup") is None  # the call goes on
    assert voice.dialogue.state.received == []


async def test_refusals_keep_their_own_response_in_an_app_with_the_apps_error_handlers(
    settings: Settings, dialogue_server: tuple[str, FastAPI]
) -> None:
    """The accept dependency's refusals are sent as prepared (Twilio gets plain text), whatever handlers the
    mounting app installed; an app without the voice runtime answers 404 before reading anything."""
    off = FastAPI()
    install_error_handlers(off)
    off.include_router(router)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=off), base_url="http://testserver") as http:
        refused = await http.post("/voice/answer?attempt=1", data=CALL)
    assert (refused.status_code, refused.text) == (404, "voice channel is not configured")
    assert refused.headers["content-type"].startswith("text/plain")
    clock = [datetime(2026, 12, 1, 10, 0, tzinfo=TZ)]
    store = MemoryCallStore(contexts={})
    app, rasa = voice_app(settings, dialogue_url=dialogue_server[0], public_base_url=PUBLIC, store=store, clock=clock)
    install_error_handlers(app)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as http:
        forged = await http.post("/voice/status?attempt=1", data=CALL, headers={SIGNATURE_HEADER: "forged"})
        big = await http.post("/voice/turn?attempt=1", data={"SpeechResult": "x" * (MAX_BODY_BYTES + 1)})
    await rasa.aclose()
    assert (forged.status_code, forged.text) == (403, "forbidden")
    assert (big.status_code, big.text) == (413, "too large")
    assert store.statuses == {}
