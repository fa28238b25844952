"""The official WeCom crypto vectors (BRIEF §4), plus the ways a callback can be wrong."""

from __future__ import annotations

import pytest

from bot.channels.wecom.crypto import WeComCrypto, decode_aes_key
from bot.channels.wecom.errors import CallbackMalformed, SignatureMismatch
from bot.channels.wecom.models import parse_message

SAMPLE = WeComCrypto(
    token="hJqcu3uJ9Tn2gXPmxx2w9kkCkCE2EPYo",
    encoding_aes_key="6qkdMrq68nTKduznJYO1A37W2oEgpkMUvkttRToqhUt",
    receive_id="ww1436e0e65a779aee",
)
DOCS = WeComCrypto(
    token="QDG6eK",
    encoding_aes_key="jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C",
    receive_id="wx5823bf96d3bd56c7",
)
FIXED = WeComCrypto(
    token="123456",
    encoding_aes_key="kWxPEV2UEDyxWpmPdKC3F4dgPDmOvfKX1HGnEUDS1aR",
    receive_id="wx49f0ab532d5d035a",
)
SAMPLE_ENCRYPT = (
    "Kl7kjoSf6DMD1zh7rtrHjFaDapSCkaOnwu3bqLc5tAybhhMl9pFeK8NslNPVdMwmBQTNoW4mY7AIjeLvEl3NyeTkAgGzBhzTtRLNshw2"
    "AEew+kkYcD+Fq72Kt00fT0WnN87hGrW8SqGc+NcT3mu87Ha3dz1pSDi6GaUA6A0sqfde0VJPQbZ9U+3JWcoD4Z5jaU0y9GSh010wsHF8"
    "KZD24YhmZH4ch4Ka7ilEbjbfvhKkNL65HHL0J6EYJIZUC2pFrdkJ7MhmEbU2qARR4iQHE7wy24qy0cRX3Mfp6iELcDNfSsPGjUQVDGxQ"
    "DCWjayJOpcwocugux082f49HKYg84EpHSGXAyh+/oxwaWbvL6aSDPOYuPDGOCI8jmnKiypE+"
)
FIXED_PLAINTEXT = (
    "<xml>\n<MsgType><![CDATA[text]]></MsgType>\n<Content><![CDATA[test]]></Content>\n"
    "<FromUserName><![CDATA[wx49f0ab532d5d035a]]></FromUserName>\n<ToUserName><![CDATA[messense]]></ToUserName>\n"
    "<AgentID>1</AgentID>\n<CreateTime>1411525903</CreateTime>\n</xml>"
)
FIXED_ENCRYPT = (
    "9s4gMv99m88kKTh/H8IdkOiMg6bisoy3ypwy9H4hvSPe9nsGaqyw5hhSjdYbcrKk+j3nba4HMOTzHrluLBYqxgNcBqGsL8GqxlhZgURnAt"
    "ObvesEl5nZ+uBE8bviY0LWke8Zy9V/QYKxNV2FqllNXcfmstttyIkMKCCmVbCFM2JTF5wY0nFhHZSjPUL2Q1qvSUCUld+/WIXrx0oyKQmp"
    "B6o8NRrrNrsDf03oxI1p9FxUgMnwKKZeOA/uu+2IEvEBtb7muXsVbwbgX05UPPJvFurDXafG0RQyPR+mf1nDnAtQmmNOuiR5MIkdQ39xn"
    "1vWwi1O5oazPoQJz0nTYjxxEE8kv3kFxtAGVRe3ypD3WeK2XeFYFMNMpatF9XiKzHo3"
)


def test_official_sample_url_verification() -> None:
    plain = SAMPLE.verify_url(
        msg_signature="012bc692d0a58dd4b10f8dfe5c4ac00ae211ebeb",
        timestamp="1476416373",
        nonce="47744683",
        echostr="fsi1xnbH4yQh0+PJxcOdhhK6TDXkjMyhEPA7xB2TGz6b+g7xyAbEkRxN/3cNXW9qdqjnoVzEtpbhnFyq6SVHyA==",
    )
    assert plain == "1288432023552776189"


def test_official_sample_message_decryption() -> None:
    SAMPLE.verify("0c3914025cb4b4d68103f6bfc8db550f79dcf48e", "1476422779", "1597212914", SAMPLE_ENCRYPT)
    plain = SAMPLE.decrypt(SAMPLE_ENCRYPT)
    assert plain == (
        "<xml><ToUserName>ww1436e0e65a779aee</ToUserName><FromUserName>ChenJiaShun</FromUserName>"
        "<CreateTime>1476422779</CreateTime><MsgType>text</MsgType><Content>你好</Content>"
        "<MsgId>1456453720</MsgId><AgentID>1000002</AgentID></xml>"
    )
    message = parse_message(plain)
    assert (message.from_user_name, message.content, message.dedup_key) == (
        "ChenJiaShun",
        "你好",
        "msg:1456453720",
    )


def test_docs_example_url_verification() -> None:
    plain = DOCS.verify_url(
        msg_signature="5c45ff5e21c57e6ad56bac8758b79b1d9ac89fd3",
        timestamp="1409659589",
        nonce="263014780",
        echostr="P9nAzCzyDtyTWESHep1vC5X9xho/qYX3Zpb4yKa9SKld1DsH3Iyt3tP3zNdtp+4RPcs8TgAE7OaBO+FZXvnaqQ==",
    )
    assert plain == "1616140317555161061"


def test_deterministic_reply_encryption_vector() -> None:
    sealed = FIXED.seal(FIXED_PLAINTEXT, timestamp="1411525903", nonce="461056294", random_prefix=b"1234567890123456")
    assert sealed.encrypt == FIXED_ENCRYPT
    assert sealed.signature == "407518b7649e86ef23978113f92d27afa9296533"
    assert FIXED.decrypt(FIXED_ENCRYPT) == FIXED_PLAINTEXT


def test_deterministic_key_set_url_verification() -> None:
    plain = FIXED.verify_url(
        msg_signature="dd6b9c95b495b3f7e2901bfbc76c664930ffdb96",
        timestamp="1411443780",
        nonce="437374425",
        echostr="4ByGGj+sVCYcvGeQYhaKIk1o0pQRNbRjxybjTGblXrBaXlTXeOo1+bXFXDQQb1o6co6Yh9Bv41n7hOchLF6p+Q==",
    )
    assert plain == "5927782489442352469"


@pytest.mark.parametrize("message", ["", "x", "你好" * 500, "a" * 31, "a" * 32])
def test_round_trip_pads_to_32_byte_blocks(message: str) -> None:
    encrypted = SAMPLE.encrypt(message)
    assert SAMPLE.decrypt(encrypted) == message


def test_tampered_signature_is_refused() -> None:
    with pytest.raises(SignatureMismatch):
        SAMPLE.verify("0c3914025cb4b4d68103f6bfc8db550f79dcf48f", "1476422779", "1597212914", SAMPLE_ENCRYPT)
    with pytest.raises(SignatureMismatch):  # same signature, different timestamp
        SAMPLE.verify("0c3914025cb4b4d68103f6bfc8db550f79dcf48e", "1476422780", "1597212914", SAMPLE_ENCRYPT)


def test_ciphertext_for_another_corp_is_refused() -> None:
    other = WeComCrypto(
        token="hJqcu3uJ9Tn2gXPmxx2w9kkCkCE2EPYo",
        encoding_aes_key="6qkdMrq68nTKduznJYO1A37W2oEgpkMUvkttRToqhUt",
        receive_id="wwSomeoneElse",
    )
    with pytest.raises(CallbackMalformed, match="another corp"):
        other.decrypt(SAMPLE_ENCRYPT)


@pytest.mark.parametrize("ciphertext", ["not base64!", "AAAA", SAMPLE_ENCRYPT[:-24] + "A" * 24])
def test_garbage_ciphertext_is_malformed(ciphertext: str) -> None:
    with pytest.raises(CallbackMalformed):
        SAMPLE.decrypt(ciphertext)


@pytest.mark.parametrize("key", ["short", "6qkdMrq68nTKduznJYO1A37W2oEgpkMUvkttRToqhU!", "x" * 44])
def test_bad_encoding_aes_key(key: str) -> None:
    with pytest.raises(ValueError):
        decode_aes_key(key)
