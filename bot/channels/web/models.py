"""The web chat API's typed bodies (a contract: the page and any other client rely on them)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field, SerializerFunctionWrapHandler, field_validator, model_serializer

from bot.channels.web.welcome import Bilingual
from bot.core.messages import BotMessage, Button, Citation
from bot.language import Language


class ChatRequest(BaseModel):
    """One web chat turn."""

    sender_id: str = Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9_.:@-]+$")
    message: str = Field(min_length=1, max_length=2000)

    @field_validator("message")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("message must not be empty / 消息不能为空")
        return value


class ChatMessage(BaseModel):
    """One bot message: its text, kind, sources (id and title) and quick replies (title and payload:
    tapping one sends its payload, plain text, as the client's next message); with a hand-off, a message
    of kind "advisor_link" carries the advisor's WeCom QR code."""

    text: str
    kind: str | None = None
    citations: list[Citation] = Field(default_factory=list)
    buttons: list[Button] = Field(default_factory=list)
    # kind "advisor_link": the advisor's WeCom 「联系我」 QR code (WeCom's image URL; scanning it adds them).
    # Sent only when set, so every other message keeps the contract's four fields.
    qr_code: str | None = None

    @model_serializer(mode="wrap")
    def _qr_code_when_set(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        data: dict[str, Any] = handler(self)
        if data.get("qr_code") is None:
            data.pop("qr_code", None)
        return data


class ChatResponse(BaseModel):
    messages: list[ChatMessage]


class HistoryMessage(ChatMessage):
    """A message of a restored conversation: the client's ("user") or the advisor's ("bot")."""

    role: Literal["user", "bot"]


class HistoryResponse(BaseModel):
    sender_id: str
    language: Language | None  # the conversation's language; None when there is no conversation
    messages: list[HistoryMessage]


class WelcomeResponse(BaseModel):
    language: Language
    bank_name: Bilingual
    greeting: Bilingual
    suggestions_title: str
    suggestions: list[Citation]


# A token the page generates from 128 random bits: knowing it is what gives access to the history.
HISTORY_SENDER_ID = r"^[A-Za-z0-9_-]{32,128}$"


def chat_message(message: BotMessage) -> ChatMessage:
    return ChatMessage(text=message.text, kind=message.kind, citations=message.citations, buttons=message.buttons)
