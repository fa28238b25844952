"""Typed boundaries for WeCom: callback XML (envelope and decrypted message) and kf JSON."""

from __future__ import annotations

import re
from typing import Any
from xml.etree.ElementTree import ParseError

import defusedxml.ElementTree as DefusedET
from defusedxml import DefusedXmlException
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from bot.channels.wecom.errors import CallbackMalformed

# kf message origins (kf/sync_msg): who wrote the message.
ORIGIN_CUSTOMER = 3
ORIGIN_EVENT = 4
ORIGIN_SERVICER = 5


# The envelope's ciphertext, found without an XML parser so the signature is checked before any parsing:
# base64 in <Encrypt>, optionally as CDATA. WeCom sends UTF-8; any other encoding simply does not match.
_ENCRYPT = re.compile(rb"<Encrypt>\s*(?:<!\[CDATA\[([A-Za-z0-9+/=]+)\]\]>|([A-Za-z0-9+/=]+))\s*</Encrypt>")


def parse_xml(text: str | bytes) -> dict[str, str]:
    """Flat `<xml><Tag>value</Tag>…</xml>` as a dict; any DTD or entity declaration is refused, in every
    encoding the parser reads (UTF-16 and UTF-32 included), so entity bombs never expand."""
    try:
        root = DefusedET.fromstring(text, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as exc:
        raise CallbackMalformed(f"XML with a DTD or entities is refused ({type(exc).__name__})") from exc
    except (ParseError, ValueError) as exc:  # ValueError: e.g. a multi-byte encoding without a BOM
        raise CallbackMalformed(f"unreadable XML: {exc}") from exc
    return {child.tag: (child.text or "").strip() for child in root}


def envelope_ciphertext(body: bytes) -> str:
    """The one <Encrypt> value of a POST body, read without parsing XML (for the signature check)."""
    found = _ENCRYPT.findall(body)
    if len(found) != 1:
        raise CallbackMalformed("the body must hold exactly one base64 <Encrypt> element")
    cdata, bare = found[0]
    return (cdata or bare).decode("ascii")


class CallbackEnvelope(BaseModel):
    """The outer POST body: only Encrypt matters; the rest is in the ciphertext."""

    model_config = ConfigDict(populate_by_name=True, extra="ignore")

    encrypt: str = Field(alias="Encrypt", min_length=1)
    to_user_name: str | None = Field(default=None, alias="ToUserName")
    agent_id: str | None = Field(default=None, alias="AgentID")


class CallbackMessage(BaseModel):
    """A decrypted callback: an advisor's message or event, or a kf_msg_or_event notice."""

    model_config = ConfigDict(populate_by_name=True, extra="ignore")

    to_user_name: str = Field(default="", alias="ToUserName")
    from_user_name: str = Field(default="", alias="FromUserName")
    create_time: int = Field(default=0, alias="CreateTime")
    msg_type: str = Field(alias="MsgType")
    content: str | None = Field(default=None, alias="Content")
    msg_id: str | None = Field(default=None, alias="MsgId")
    agent_id: int | None = Field(default=None, alias="AgentID")
    event: str | None = Field(default=None, alias="Event")
    token: str | None = Field(default=None, alias="Token")
    open_kfid: str | None = Field(default=None, alias="OpenKfId")
    # change_external_contact (客户联系): who added whom, through which link's state
    change_type: str | None = Field(default=None, alias="ChangeType")
    user_id: str | None = Field(default=None, alias="UserID")
    external_user_id: str | None = Field(default=None, alias="ExternalUserID")
    state: str | None = Field(default=None, alias="State")
    welcome_code: str | None = Field(default=None, alias="WelcomeCode")

    @property
    def is_kf_notice(self) -> bool:
        return self.msg_type == "event" and self.event == "kf_msg_or_event"

    @property
    def is_contact_added(self) -> bool:
        """An advisor (UserID) gained an external contact, e.g. a client who scanned their 「联系我」 link."""
        return (
            self.msg_type == "event"
            and self.event == "change_external_contact"
            and self.change_type == "add_external_contact"
            and bool(self.user_id and self.external_user_id)
        )

    @property
    def dedup_key(self) -> str:
        """WeCom retries up to 3 times: messages repeat their MsgId, events their sender and time.

        External-contact events all come from "sys", so two clients adding an advisor in the same second
        would share sender and time: their key also names the change and both users.
        """
        if self.msg_id:
            return f"msg:{self.msg_id}"
        if self.is_kf_notice:
            return f"kf:{self.open_kfid}:{self.token}"
        if self.event == "change_external_contact":
            who = f"{self.change_type}:{self.user_id}:{self.external_user_id}"
            return f"event:{self.from_user_name}:{self.create_time}:{self.event}:{who}"
        return f"event:{self.from_user_name}:{self.create_time}:{self.event}"


def _validated(model: type[BaseModel], data: dict[str, Any]) -> Any:
    # An empty element (e.g. <AgentID></AgentID> on some events) means "absent", not "invalid".
    present = {key: value for key, value in data.items() if value != ""}
    try:
        return model.model_validate(present)
    except ValidationError as exc:
        raise CallbackMalformed(f"unexpected callback fields: {exc.errors()[0]['loc']}") from exc


def parse_envelope(body: bytes) -> CallbackEnvelope:
    """The POST body's envelope; CallbackMalformed if it is not one."""
    envelope: CallbackEnvelope = _validated(CallbackEnvelope, parse_xml(body))
    return envelope


def parse_message(xml_text: str) -> CallbackMessage:
    """A decrypted callback body; CallbackMalformed if it is not one."""
    message: CallbackMessage = _validated(CallbackMessage, parse_xml(xml_text))
    return message


def _cdata(value: str) -> str:
    return "<![CDATA[" + value.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def text_reply_xml(*, to_user: str, from_user: str, content: str, create_time: int) -> str:
    """The plaintext of a passive text reply (encrypted before it leaves)."""
    return (
        f"<xml><ToUserName>{_cdata(to_user)}</ToUserName><FromUserName>{_cdata(from_user)}</FromUserName>"
        f"<CreateTime>{create_time}</CreateTime><MsgType><![CDATA[text]]></MsgType>"
        f"<Content>{_cdata(content)}</Content></xml>"
    )


def reply_envelope_xml(*, encrypt: str, signature: str, timestamp: str, nonce: str) -> str:
    """WeCom's encrypted passive-reply envelope."""
    return (
        f"<xml><Encrypt>{_cdata(encrypt)}</Encrypt><MsgSignature>{_cdata(signature)}</MsgSignature>"
        f"<TimeStamp>{timestamp}</TimeStamp><Nonce>{_cdata(nonce)}</Nonce></xml>"
    )


class ContactWay(BaseModel):
    """add_contact_way's answer: the id to update or delete the link by, and its QR code's URL."""

    model_config = ConfigDict(extra="ignore")

    config_id: str = Field(min_length=1, max_length=128)
    qr_code: str = Field(default="", max_length=1024)


class KfText(BaseModel):
    """A customer's text (menu_id when it was a menu click)."""

    content: str = ""
    menu_id: str | None = None


class KfEvent(BaseModel):
    """A kf system event (origin 4); only the fields we act on are typed."""

    model_config = ConfigDict(extra="allow")

    event_type: str
    open_kfid: str | None = None
    external_userid: str | None = None
    welcome_code: str | None = None
    change_type: int | None = None
    fail_msgid: str | None = None
    fail_type: int | None = None


class KfMessage(BaseModel):
    """One entry of kf/sync_msg's msg_list."""

    model_config = ConfigDict(extra="ignore")

    msgid: str
    open_kfid: str | None = None
    external_userid: str | None = None
    send_time: int = 0
    origin: int
    msgtype: str
    text: KfText | None = None
    event: KfEvent | None = None


class SyncMsgPage(BaseModel):
    """One kf/sync_msg page; `msg_list` stays raw so it is stored exactly as received."""

    model_config = ConfigDict(extra="ignore")

    next_cursor: str = ""
    has_more: bool = False
    msg_list: list[dict[str, Any]] = Field(default_factory=list)
