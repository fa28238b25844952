"""What the call needs to offer a client their advisor's WeCom link; bot.advisor_links.offers.LinkOffers
implements it. The voice channel owns this interface, so it never imports the domain above it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, TypeVar

from bot.language import Language

__all__ = ["CallLinkOffers", "CallOffer"]

Result = TypeVar("Result")


@dataclass(frozen=True)
class CallOffer:
    """What to ask on a call: the client's advisor and the approved question in the client's language."""

    attempt_id: int
    advisor_id: str
    language: Language
    text: str


class CallLinkOffers(Protocol[Result]):
    """The offer after interest, the client's answer (a yes texts the link), and what to say after it; the
    answer's result is the implementation's own, handed back to it to word the reply."""

    async def offer_after_interest(self, *, attempt_id: int, call_sid: str) -> CallOffer | None: ...

    async def answer_on_call(
        self, *, attempt_id: int, call_sid: str, accepted: bool, words: str, advisor_id: str | None = None
    ) -> Result: ...

    def call_reply(self, result: Result, *, language: Language, advisor_id: str) -> str: ...
