"""Building signed WeCom callbacks the way WeCom does, with the official sample keys."""

from __future__ import annotations

from dataclasses import dataclass

from bot.channels.wecom.crypto import WeComCrypto
from bot.channels.wecom.models import parse_xml

from .fakes import CORP_ID, OPEN_KFID

# Official sample (BRIEF §4, vector 1): corp id ww1436e0e65a779aee.
TOKEN = "hJqcu3uJ9Tn2gXPmxx2w9kkCkCE2EPYo"
AES_KEY = "6qkdMrq68nTKduznJYO1A37W2oEgpkMUvkttRToqhUt"
CRYPTO = WeComCrypto(token=TOKEN, encoding_aes_key=AES_KEY, receive_id=CORP_ID)
PATH = "/channels/wecom/callback"


@dataclass
class SignedCallback:
    params: dict[str, str]
    body: bytes


def sign(inner_xml: str, *, timestamp: float, nonce: str) -> SignedCallback:
    """Encrypt and sign a callback body exactly as WeCom would send it."""
    encrypted = CRYPTO.encrypt(inner_xml)
    ts = str(int(timestamp))
    params = {"msg_signature": CRYPTO.signature(ts, nonce, encrypted), "timestamp": ts, "nonce": nonce}
    body = f"<xml><ToUserName><![CDATA[{CORP_ID}]]></ToUserName><Encrypt><![CDATA[{encrypted}]]></Encrypt></xml>"
    return SignedCallback(params, body.encode())


def kf_notice(*, token: str, create_time: float, open_kfid: str = OPEN_KFID) -> str:
    return (
        f"<xml><ToUserName><![CDATA[{CORP_ID}]]></ToUserName><CreateTime>{int(create_time)}</CreateTime>"
        "<MsgType><![CDATA[event]]></MsgType><Event><![CDATA[kf_msg_or_event]]></Event>"
        f"<Token><![CDATA[{token}]]></Token><OpenKfId><![CDATA[{open_kfid}]]></OpenKfId></xml>"
    )


def staff_message(*, user: str, create_time: float, msg_id: str, msg_type: str = "text", content: str = "") -> str:
    return (
        f"<xml><ToUserName><![CDATA[{CORP_ID}]]></ToUserName><FromUserName><![CDATA[{user}]]></FromUserName>"
        f"<CreateTime>{int(create_time)}</CreateTime><MsgType><![CDATA[{msg_type}]]></MsgType>"
        f"<Content><![CDATA[{content}]]></Content><MsgId>{msg_id}</MsgId><AgentID>1000002</AgentID></xml>"
    )


def open_passive_reply(xml_text: str) -> dict[str, str]:
    """Verify and decrypt a passive reply envelope; returns the reply's fields."""
    envelope = parse_xml(xml_text)
    CRYPTO.verify(envelope["MsgSignature"], envelope["TimeStamp"], envelope["Nonce"], envelope["Encrypt"])
    return parse_xml(CRYPTO.decrypt(envelope["Encrypt"]))
