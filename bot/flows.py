"""Cross-domain work behind the dialogue's actions: leads, contact preferences, KYC and suggestions.

Actions stay thin and call these coroutines; every database call runs in a worker thread so the
event loop (which also serves Rasa's action calls) never blocks.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from bot.advice.service import recommend
from bot.catalogue import Catalogue, catalogue_for
from bot.contacts import service as contacts
from bot.contacts.models import OptOutRecorded
from bot.db import transaction
from bot.knowledge.llm import ChatModel
from bot.knowledge.models import Product
from bot.leads import service as leads
from bot.leads.assignment import LeadRouting
from bot.leads.contact import attach_contact, known_phone
from bot.leads.errors import LeadNotFound, TransitionNotAllowed
from bot.leads.scoring import mentions_amount, score_lead
from bot.settings import DialogueSettings

logger = logging.getLogger(__name__)
# New content is used from the next turn on; within one turn the catalogue is read once.
_PRODUCTS_TTL_S = 1.0


@dataclass(frozen=True)
class Turn:
    """One user turn as the hand-off summary shows it."""

    text: str
    intent: str | None
    confidence: float | None


@dataclass(frozen=True)
class ContactConsent:
    """Contact details a client typed and agreed to be called on, with the wording they saw."""

    name: str
    phone: str
    consent_text: str
    consented_at: datetime


@dataclass(frozen=True)
class LeadRequest:
    """Why and where a lead arises; the client's own words are the evidence."""

    client_key: str
    sender_id: str
    channel: str
    type: str
    intent: str
    confidence: float | None
    evidence: str
    product_codes: Sequence[str] = ()
    summary: str | None = None
    callback_at: datetime | None = None


class DialogueFlows:
    """The services the dialogue's custom actions need, built once by the app."""

    def __init__(
        self,
        *,
        sessions: sessionmaker[Session],
        catalogue: Any,
        dialogue: DialogueSettings,
        hotline: str,
        llm: ChatModel | None = None,
        summary_prompt: str = "",
        routing: LeadRouting | None = None,
        lead_window: timedelta | None = None,
        bank_names: tuple[str, str] = ("示例银行", "Demo Bank"),
    ) -> None:
        self._sessions = sessions
        self._catalogue = catalogue
        self.settings = dialogue
        self.hotline = hotline
        self._llm = llm  # passed explicitly by the app: the hand-off summary's model (None: plain summary)
        self._summary_prompt = summary_prompt  # prompts/handoff_summary.<version>.system.txt, read by the app
        # Links new leads to known clients and assigns their advisor (bot/leads/assignment.py).
        self.routing = routing
        self._lead_window = lead_window  # one open lead per sender and type within it (leads service)
        self._bank_names = bank_names  # (zh, en): app.bank_name, app.bank_name_en
        self._products: tuple[float, list[Product]] | None = None

    def bank_name(self, language: str) -> str:
        """The bank's name as the client reads it (for texts stored verbatim, like consent wording)."""
        return self._bank_names[1] if language == "en" else self._bank_names[0]

    def products(self) -> list[Product]:
        """The live catalogue, read at most once per `_PRODUCTS_TTL_S` (a turn asks for it several times)."""
        now = time.monotonic()
        if self._products is None or now - self._products[0] > _PRODUCTS_TTL_S:
            self._products = (now, list(self._catalogue.products()))
        return self._products[1]

    def catalogue(self) -> Catalogue:
        """The live catalogue's name index (rebuilt only when the content changes)."""
        return catalogue_for(tuple(p.entry() for p in self.products()))

    def find_products(self, text: str) -> list[Product]:
        """Catalogue products the client names: code, full name, English name, an alias from products.yml,
        or the short name clients actually say ("季享90天" for "示例银行季享90天持有期固收理财产品")."""
        products = {p.code: p for p in self.products()}
        named = self.catalogue().named(text)
        return [products[entry.code] for entry in named if entry.code in products]

    async def risk_level(self, client_key: str, today: date) -> str | None:
        def query() -> str | None:
            with self._sessions() as session:
                return contacts.current_risk_level(
                    session,
                    client_key=client_key,
                    today=today,
                    valid_days=self.settings.assessment_valid_days,
                )

        return await asyncio.to_thread(query)

    async def save_assessment(
        self, *, client_key: str, level: str, score: int, answers: dict[str, int], assessed_at: datetime
    ) -> None:
        def write() -> None:
            with transaction(self._sessions) as session:
                contacts.save_risk_profile(
                    session,
                    client_key=client_key,
                    level=level,
                    score=score,
                    answers=answers,
                    assessed_at=assessed_at,
                )

        await asyncio.to_thread(write)

    async def opt_out(
        self, *, client_key: str, sender_id: str, phone: str | None, channel: str, evidence: str
    ) -> tuple[OptOutRecorded, int]:
        """Record the refusal and close the client's open marketing leads, in one transaction.

        Without a phone from the conversation, the mobile this client gave on a lead (or the client list
        holds) is used, so the number is blocked in every campaign too. Returns what the refusal covers
        (contacts.register.coverage_text words it) and how many leads were withdrawn."""

        def write() -> tuple[OptOutRecorded, int]:
            with transaction(self._sessions) as session:
                number = phone or known_phone(session, client_key=client_key)
                recorded = contacts.opt_out(
                    session, client_key=client_key, phone=number, channel=channel, evidence=evidence
                )
                closed = leads.close_marketing_leads(session, client_keys=[client_key, sender_id])
                return recorded, len(closed)

        return await asyncio.to_thread(write)

    async def reach(self, *, client_key: str, channel: str) -> str | None:
        """How the bank can reach this client without asking for details: "call" (a campaign call: the
        number dialled), "wecom" (the WeCom user), "client_list" (a known client id from the call's
        metadata), "given" (a mobile given earlier with consent); None: ask the client."""
        if channel == "voice":
            return "call"
        if channel == "wecom":
            return "wecom"

        def lookup() -> str | None:
            with self._sessions() as session:
                if self.routing is not None and self.routing.known(session, client_key) is not None:
                    return "client_list"
                return "given" if known_phone(session, client_key=client_key) else None

        return await asyncio.to_thread(lookup)

    async def record_lead(self, request: LeadRequest) -> list[int]:
        """Create or update the open lead (one per sender and type within the window), scored as documented
        in bot/leads/scoring.py from the client's own words; its ids."""

        def write() -> list[int]:
            with transaction(self._sessions) as session:
                recorded = leads.record_lead(
                    session,
                    client_key=request.client_key,
                    sender_id=request.sender_id,
                    channel=request.channel,
                    conversation_id=request.sender_id,
                    type=request.type,
                    intent=request.intent,
                    confidence=request.confidence,
                    product_codes=list(request.product_codes),
                    score=score_lead(
                        type=request.type,
                        confidence=request.confidence,
                        product_named=bool(request.product_codes),
                        amount_mentioned=mentions_amount(request.evidence),
                    ),
                    evidence=request.evidence,
                    summary=request.summary,
                    callback_at=request.callback_at,
                    routing=self.routing,
                    sender_window=self._lead_window,
                )
                return [lead.id for lead in recorded]

        return await asyncio.to_thread(write)

    async def attach_contact(self, *, client_key: str, lead_ids: Sequence[int], contact: ContactConsent) -> None:
        """The name and mobile the client agreed to be called on, with the consent wording, on their leads."""

        def write() -> None:
            with transaction(self._sessions) as session:
                for lead_id in lead_ids:
                    attach_contact(
                        session, client_key=client_key, name=contact.name, phone=contact.phone,
                        consent_text=contact.consent_text, consented_at=contact.consented_at, lead_id=lead_id,
                    )  # fmt: skip

        await asyncio.to_thread(write)

    async def withdraw_leads(self, lead_ids: Sequence[int]) -> None:
        """Close leads the client would not give a way to reach them for (nobody could act on them)."""

        def write() -> None:
            with transaction(self._sessions) as session:
                for lead_id in lead_ids:
                    try:
                        leads.update_status(session, lead_id=lead_id, status="closed")
                    except (LeadNotFound, TransitionNotAllowed):  # staff already moved it on: theirs now
                        continue

        await asyncio.to_thread(write)

    def suggestions(self, *, level: str, channel: str, objective: int | None, horizon: int | None) -> list[Product]:
        return recommend(self.products(), client_level=level, channel=channel, objective=objective, horizon=horizon)

    async def summarize(self, turns: Sequence[Turn], slots: dict[str, Any]) -> str:
        """LLM summary when configured; otherwise the last turns with their intents and slots."""
        plain = "\n".join(f"- {t.text} [{t.intent or '?'} {t.confidence or 0:.2f}]" for t in turns[-8:]) + (
            f"\nslots: {slots}" if slots else ""
        )
        if self._llm is None:
            return plain
        try:
            summary = await asyncio.wait_for(
                self._llm.complete([("system", self._summary_prompt), ("user", plain)]),
                timeout=5,
            )
        except Exception as exc:
            logger.warning("LLM summary failed, using the plain one: %r", exc)
            return plain
        return f"{summary.strip()}\n---\n{plain}"
