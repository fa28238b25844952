"""Typed boundaries of the dialogue gateway."""

from __future__ import annotations

from pydantic import BaseModel, Field

from bot.language import Language


class Citation(BaseModel):
    """An approved document or product an answer was drawn from."""

    id: str
    title: str


class Button(BaseModel):
    """A quick reply: the label shown and the plain text sent back as the client's message when tapped.

    The payload is never an "/intent" command (the gateway refuses text starting with "/"), so what a
    client taps is exactly what they could have typed, and the conversation's record shows it.
    """

    title: str
    payload: str


class BotMessage(BaseModel):
    """One rendered bot message, in the conversation's language, ready for a channel."""

    text: str
    kind: str | None = None
    citations: list[Citation] = Field(default_factory=list)
    buttons: list[Button] = Field(default_factory=list)
    end_conversation: bool = False
    risk_level: str | None = None  # the client level a recommendation was made for (for the guard)
    # A booked callback's time (ISO 8601, the bank's zone): the time the lead carries and the call books.
    callback_at: str | None = None
    # Texts quoted verbatim from approved content; the guard verifies them and skips claim rules inside.
    approved: list[str] = Field(default_factory=list)


class Reply(BaseModel):
    """What the gateway returns for one user turn."""

    conversation_id: str
    language: Language
    messages: list[BotMessage]

    def as_text(self) -> str:
        """The reply as one plain-text message with its sources, for text channels without rich cards.

        Sources are shown by title (internal ids mean nothing to a client), once each, after the text.
        """
        parts = [m.text for m in self.messages if m.text.strip()]
        titles = list(dict.fromkeys(c.title for m in self.messages for c in m.citations))
        if titles:
            sources = "".join(f"《{t}》" for t in titles) if self.language == "zh" else "; ".join(titles)
            parts.append(("来源：" if self.language == "zh" else "Sources: ") + sources)
        return "\n\n".join(parts)
