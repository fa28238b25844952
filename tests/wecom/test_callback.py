"""The callback endpoint: URL check, 403 on tampering, replays and retries change nothing."""

from __future__ import annotations

import httpx
import pytest

from bot.channels.wecom import WeComRuntime
from bot.channels.wecom import models as wecom_models
from bot.channels.wecom.errors import CallbackMalformed
from bot.channels.wecom.models import parse_xml

from .conftest import Clock, asgi_client
from .fakes import FakeRasa, FakeWeCom
from .helpers import PATH, kf_notice, open_passive_reply, sign, staff_message

VECTOR_URL_CHECK = {
    "msg_signature": "012bc692d0a58dd4b10f8dfe5c4ac00ae211ebeb",
    "timestamp": "1476416373",
    "nonce": "47744683",
    "echostr": "fsi1xnbH4yQh0+PJxcOdhhK6TDXkjMyhEPA7xB2TGz6b+g7xyAbEkRxN/3cNXW9qdqjnoVzEtpbhnFyq6SVHyA==",
}
VECTOR_MESSAGE = {
    "msg_signature": "0c3914025cb4b4d68103f6bfc8db550f79dcf48e",
    "timestamp": "1476422779",
    "nonce": "1597212914",
}
VECTOR_BODY = (
    b"<xml><ToUserName><![CDATA[ww1436e0e65a779aee]]></ToUserName><Encrypt><![CDATA["
    b"Kl7kjoSf6DMD1zh7rtrHjFaDapSCkaOnwu3bqLc5tAybhhMl9pFeK8NslNPVdMwmBQTNoW4mY7AIjeLvEl3NyeTkAgGzBhzTtRLNshw2"
    b"AEew+kkYcD+Fq72Kt00fT0WnN87hGrW8SqGc+NcT3mu87Ha3dz1pSDi6GaUA6A0sqfde0VJPQbZ9U+3JWcoD4Z5jaU0y9GSh010wsHF8"
    b"KZD24YhmZH4ch4Ka7ilEbjbfvhKkNL65HHL0J6EYJIZUC2pFrdkJ7MhmEbU2qARR4iQHE7wy24qy0cRX3Mfp6iELcDNfSsPGjUQVDGxQ"
    b"DCWjayJOpcwocugux082f49HKYg84EpHSGXAyh+/oxwaWbvL6aSDPOYuPDGOCI8jmnKiypE+"
    b"]]></Encrypt><AgentID><![CDATA[1000002]]></AgentID></xml>"
)


async def test_url_verification_answers_the_plaintext(http: httpx.AsyncClient, clock: Clock) -> None:
    clock.now = 1476416373 + 2
    response = await http.get(PATH, params=VECTOR_URL_CHECK)
    assert (response.status_code, response.text) == (200, "1288432023552776189")


async def test_url_verification_tolerates_an_unencoded_plus(http: httpx.AsyncClient, clock: Clock) -> None:
    clock.now = 1476416373
    query = "&".join(f"{k}={v}" for k, v in VECTOR_URL_CHECK.items())  # '+' sent raw, parsed as a space
    response = await http.get(f"{PATH}?{query}")
    assert response.text == "1288432023552776189"


async def test_url_verification_refuses_tampering_and_stale_timestamps(http: httpx.AsyncClient, clock: Clock) -> None:
    clock.now = 1476416373
    tampered = {**VECTOR_URL_CHECK, "msg_signature": "0" * 40}
    assert (await http.get(PATH, params=tampered)).status_code == 403
    clock.advance(3600)
    assert (await http.get(PATH, params=VECTOR_URL_CHECK)).status_code == 403


async def test_official_message_vector_gets_a_passive_reply(
    http: httpx.AsyncClient, clock: Clock, rasa_api: FakeRasa
) -> None:
    clock.now = 1476422779
    rasa_api.replies = [{"text": "您好，我是AI助手。"}]
    response = await http.post(PATH, params=VECTOR_MESSAGE, content=VECTOR_BODY)
    assert response.status_code == 200
    reply = open_passive_reply(response.text)
    assert (reply["ToUserName"], reply["Content"], reply["MsgType"]) == (
        "ChenJiaShun",
        "您好，我是AI助手。",
        "text",
    )
    assert [(t["sender"], t["message"]) for t in rasa_api.turns] == [("wecom_staff:ChenJiaShun", "你好")]


async def test_tampered_signature_gets_403_and_changes_nothing(
    http: httpx.AsyncClient, clock: Clock, rasa_api: FakeRasa, runtime: WeComRuntime
) -> None:
    clock.now = 1476422779
    for bad in ({**VECTOR_MESSAGE, "msg_signature": "f" * 40}, {**VECTOR_MESSAGE, "nonce": "1597212915"}):
        assert (await http.post(PATH, params=bad, content=VECTOR_BODY)).status_code == 403
    tampered_body = VECTOR_BODY.replace(b"Kl7kjoSf", b"Kl7kjoSg")
    assert (await http.post(PATH, params=VECTOR_MESSAGE, content=tampered_body)).status_code == 403
    assert rasa_api.turns == []
    # The genuine request is still accepted afterwards: nothing was claimed by the forgeries.
    assert (await http.post(PATH, params=VECTOR_MESSAGE, content=VECTOR_BODY)).text != ""


async def test_replayed_callback_changes_nothing(http: httpx.AsyncClient, clock: Clock, rasa_api: FakeRasa) -> None:
    clock.now = 1476422779
    first = await http.post(PATH, params=VECTOR_MESSAGE, content=VECTOR_BODY)
    clock.advance(30)
    replay = await http.post(PATH, params=VECTOR_MESSAGE, content=VECTOR_BODY)
    assert first.text and (replay.status_code, replay.text) == (200, "")
    assert len(rasa_api.turns) == 1


async def test_stale_callback_is_refused(http: httpx.AsyncClient, clock: Clock, rasa_api: FakeRasa) -> None:
    clock.now = 1476422779 + 301
    assert (await http.post(PATH, params=VECTOR_MESSAGE, content=VECTOR_BODY)).status_code == 403
    assert rasa_api.turns == []


async def test_wecom_retry_with_a_new_nonce_is_deduplicated_by_msgid(
    http: httpx.AsyncClient, clock: Clock, rasa_api: FakeRasa
) -> None:
    inner = staff_message(user="advisor_li", create_time=clock.now, msg_id="777", content="R2产品有哪些？")
    for nonce in ("111", "222", "333"):  # WeCom retries up to 3 times
        callback = sign(inner, timestamp=clock.now, nonce=nonce)
        assert (await http.post(PATH, params=callback.params, content=callback.body)).status_code == 200
    assert len(rasa_api.turns) == 1


async def test_duplicate_kf_notice_syncs_once(
    http: httpx.AsyncClient, clock: Clock, wecom_api: FakeWeCom, runtime: WeComRuntime
) -> None:
    inner = kf_notice(token="ENCTOKEN1", create_time=clock.now)
    for nonce in ("1", "2"):
        callback = sign(inner, timestamp=clock.now, nonce=nonce)
        response = await http.post(PATH, params=callback.params, content=callback.body)
        assert (response.status_code, response.text) == (200, "")
    await runtime.wait_idle()
    assert [c.body["token"] for c in wecom_api.calls_to("/cgi-bin/kf/sync_msg")] == ["ENCTOKEN1"]


async def test_malformed_bodies_are_400_or_403(http: httpx.AsyncClient, clock: Clock) -> None:
    params = {"msg_signature": "a" * 40, "timestamp": str(int(clock.now)), "nonce": "1"}
    assert (await http.post(PATH, params=params, content=b"not xml")).status_code == 400
    bomb = b'<!DOCTYPE x [<!ENTITY a "aaaa">]><xml><Encrypt>&a;</Encrypt></xml>'
    assert (await http.post(PATH, params=params, content=bomb)).status_code == 400
    assert (await http.post(PATH, params=params, content=b"<xml><Encrypt>x</Encrypt></xml>")).status_code == 403
    assert (await http.post(PATH, params=params, content=b"x" * 70_000)).status_code == 413
    assert (await http.post(PATH, content=b"<xml/>")).status_code == 422  # query parameters missing


async def test_disabled_channel_is_404() -> None:
    async with asgi_client(None) as client:
        assert (await client.get(PATH, params=VECTOR_URL_CHECK)).status_code == 404


DTD_XML = '<?xml version="1.0" encoding="{enc}"?><!DOCTYPE x [<!ENTITY a "{fill}">]><xml><Encrypt>&a;</Encrypt></xml>'


@pytest.mark.parametrize("encoding", ["utf-8", "utf-16", "utf-16-le", "utf-16-be", "utf-32"])
def test_a_dtd_is_refused_in_every_encoding(encoding: str) -> None:
    body = DTD_XML.format(enc=encoding.upper(), fill="A" * 10).encode(encoding)
    with pytest.raises(CallbackMalformed):
        parse_xml(body)


async def test_a_signed_utf16_envelope_with_a_dtd_is_refused(
    http: httpx.AsyncClient, clock: Clock, rasa_api: FakeRasa
) -> None:
    signed = sign(staff_message(user="u1", create_time=clock.now, msg_id="77", content="你好"), timestamp=clock.now,
                  nonce="n-dtd")  # fmt: skip
    encrypted = signed.body.decode().split("CDATA[")[2].split("]]")[0]
    body = DTD_XML.format(enc="UTF-16", fill=encrypted).encode("utf-16")
    response = await http.post(PATH, params=signed.params, content=body)
    assert response.status_code == 400
    assert rasa_api.turns == []


async def test_the_signature_is_checked_before_any_xml_is_parsed(
    http: httpx.AsyncClient, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    parsed: list[object] = []
    real = wecom_models.parse_xml
    monkeypatch.setattr(wecom_models, "parse_xml", lambda text: parsed.append(text) or real(text))
    params = {"msg_signature": "a" * 40, "timestamp": str(int(clock.now)), "nonce": "n-before"}
    forged = b"<xml><Encrypt><![CDATA[QUJDRA==]]></Encrypt><AgentID>1</AgentID></xml>"
    assert (await http.post(PATH, params=params, content=forged)).status_code == 403
    assert parsed == [], "an unsigned body never reaches the XML parser"
    signed = sign(staff_message(user="u1", create_time=clock.now, msg_id="78", content="你好"), timestamp=clock.now,
                  nonce="n-after")  # fmt: skip
    assert (await http.post(PATH, params=signed.params, content=signed.body)).status_code == 200
    assert len(parsed) == 2  # the envelope, then the decrypted message
