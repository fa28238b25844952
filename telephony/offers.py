"""What the call needs to offer a client their advisor's WeCom link (bot.advisor_links.offers.LinkOffers)."""

from __future__ import annotations

from typing import Protocol

from bot.advisor_links.offers import CallOffer, OfferResult
from bot.language import Language

__all__ = ["CallLinkOffers", "CallOffer", "OfferResult"]


class CallLinkOffers(Protocol):
    """The offer after interest, the client's answer (a yes texts the link), and what to say after it."""

    async def offer_after_interest(self, *, attempt_id: int, call_sid: str) -> CallOffer | None: ...

    async def answer_on_call(
        self, *, attempt_id: int, call_sid: str, accepted: bool, words: str, advisor_id: str | None = None
    ) -> OfferResult: ...

    def call_reply(self, result: OfferResult, *, language: Language, advisor_id: str) -> str: ...
