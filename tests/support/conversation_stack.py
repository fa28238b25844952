"""The real stack the conversation set runs on: one Rasa, and the app restarted per bank.

Rasa (the repo's model) calls its actions at a fixed port; for each bank the app is started on that port
with the bank's identity (name, hotline) and content (ingested with reset into the same data directory:
Chroma, SQLite, Rasa's tracker store), with the voice webhooks on, so web turns, voice calls and Rasa's
actions all run in the one app process of that bank. Conversations run one at a time, so every lead or
opt-out row created during a turn was created by that turn.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI
from pydantic import SecretStr
from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.orm import Session, sessionmaker

from bot.app import create_app
from bot.campaigns.models import CampaignAttempt
from bot.channels.web.history import ConversationHistory
from bot.contacts.models import DoNotContact, OptOut
from bot.core.identity import Identity
from bot.db import make_engine, session_factory, transaction
from bot.knowledge.guard import product_ref
from bot.knowledge.service import KnowledgeService
from bot.leads.models import Lead
from bot.runtime import rasa_process
from bot.runtime.supervisor import RasaSupervisor
from bot.settings import Settings, load_settings
from telephony.signature import SIGNATURE_HEADER, SignatureChecker
from tests.campaigns.conftest import add_attempt, add_campaign, add_client
from tests.support.conversation_checks import RunnerError, TwiML
from tests.support.servers import serve
from tests.support.stack import stack_settings

REPO = Path(__file__).resolve().parents[2]
ACCOUNT = "AC" + "c0de" * 8
TOKEN = "conversations-twilio-token"
CALLER_ID = "+14155550100"
ADVISOR_DESK = "+14155550199"
HISTORY_WINDOW = 100  # messages read back from Rasa's record of a conversation


@dataclass(frozen=True)
class Bank:
    """A bank's approved content and the identity its app is configured with while its conversations run."""

    id: str
    content: Path
    bank_name: str
    bank_name_en: str
    hotline: str


BANKS = {
    "demo": Bank("demo", REPO / "knowledge_base", "示例银行", "Demo Bank", "400-000-0000"),
    # the second bank's hotline as its own content gives it (products.yml, faq-lost-card-zh.md, ...)
    "bank2": Bank(
        "bank2", REPO / "tests" / "data" / "heldout" / "bank2", "澄江银行", "Chengjiang Bank", "400-872-6655"
    ),
}


@dataclass
class BankApp:
    """The app of one bank, serving web chat, the voice webhooks and Rasa's actions."""

    bank: Bank
    url: str
    settings: Settings
    sessions: sessionmaker[Session]
    history: ConversationHistory

    # -- what the database says about a turn ------------------------------------------------------

    def marks(self, attempt_id: int | None = None) -> Marks:
        """High-water marks before a turn: rows above them were created during it."""
        with self.sessions() as session:
            attempt = session.get(CampaignAttempt, attempt_id) if attempt_id else None
            callback = attempt.callback_at if attempt else None
            return Marks(
                lead=session.scalar(select(func.coalesce(func.max(Lead.id), 0))) or 0,
                opt_out=session.scalar(select(func.coalesce(func.max(OptOut.id), 0))) or 0,
                do_not_contact=session.scalar(select(func.coalesce(func.max(DoNotContact.id), 0))) or 0,
                callback_at=callback,
            )

    def effects(self, before: Marks, *, client_keys: list[str], phone: str | None, attempt_id: int | None) -> Effects:
        """What the turn changed in the database, and whether the client is now registered as opted out."""
        after = self.marks(attempt_id)
        with self.sessions() as session:
            leads = list(session.scalars(select(Lead.type).where(Lead.id > before.lead).order_by(Lead.id)))
            registered = _registered(session, client_keys=client_keys, phone=phone)
        opt_outs = (after.opt_out - before.opt_out) + (after.do_not_contact - before.do_not_contact)
        booked = after.callback_at is not None and after.callback_at != before.callback_at
        return Effects(new_leads=leads, new_opt_outs=opt_outs, opted_out=registered, callback_booked=booked)

    def add_call(self, *, client_id: str, phone: str, name: str, language: str, risk_level: str | None) -> int:
        """A campaign client from the bank's client list with one attempt being dialled (as the dialer writes)."""
        with transaction(self.sessions) as session:
            campaign = add_campaign(session)
            client = add_client(
                session, campaign, client_id=client_id, phone=phone, name=name, language=language,
                risk_level=risk_level, advisor_id=None, script_id=None, segment=None,
            )  # fmt: skip
            return add_attempt(session, client, call_sid=None, state="dialing").id

    async def bot_messages(self, conversation_id: str) -> list[dict[str, Any]]:
        """The bot's messages of the conversation's latest turn, from Rasa's record, rendered and guarded
        as they were sent (kinds and citations the voice channel does not carry)."""
        _, lines = await self.history.load(conversation_id, messages=HISTORY_WINDOW)
        last_user = max((i for i, line in enumerate(lines) if line.role == "user"), default=-1)
        return [line.message.model_dump() for line in lines[last_user + 1 :]]


def _registered(session: Session, *, client_keys: list[str], phone: str | None) -> bool:
    """Is the client in the opt-out register or on the do-not-contact list, by any of its keys?"""
    register: list[ColumnElement[bool]] = [OptOut.client_key.in_(client_keys)]
    blocked: list[ColumnElement[bool]] = [
        DoNotContact.client_key.in_(client_keys), DoNotContact.key_value.in_(client_keys)
    ]  # fmt: skip
    if phone:
        register.append(OptOut.phone == phone)
        blocked.append(DoNotContact.key_value == phone)
    return any(
        session.scalar(select(table.id).where(or_(*conditions)).limit(1)) is not None
        for table, conditions in ((OptOut, register), (DoNotContact, blocked))
    )


@dataclass(frozen=True)
class Marks:
    lead: int
    opt_out: int
    do_not_contact: int
    callback_at: datetime | None


@dataclass(frozen=True)
class Effects:
    new_leads: list[str]
    new_opt_outs: int
    opted_out: bool
    callback_booked: bool


class Caller:
    """Signs and sends webhook requests for one call exactly as Twilio does (the simulator's way)."""

    def __init__(self, http: httpx.AsyncClient, *, call_sid: str, to: str) -> None:
        self._http = http
        self._signer = SignatureChecker(TOKEN, "")
        self._base = {
            "CallSid": call_sid, "AccountSid": ACCOUNT, "From": CALLER_ID, "To": to,
            "Direction": "outbound-api", "ApiVersion": "2010-04-01",
        }  # fmt: skip

    async def post(self, url: str, params: dict[str, str]) -> httpx.Response:
        form = {**self._base, **params}
        return await self._http.post(url, data=form, headers={SIGNATURE_HEADER: self._signer.sign(url, form)})

    async def twiml(self, url: str, params: dict[str, str]) -> TwiML:
        response = await self.post(url, {"CallStatus": "in-progress", **params})
        if response.status_code != 200:
            raise RunnerError(f"{httpx.URL(url).path} answered {response.status_code}: {response.text[:200]}")
        return TwiML.parse(response.text)


class ConversationStack:
    """Rasa running; `bank()` starts the app of one bank on the port Rasa calls its actions at."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        # one number per call for the stack's life: an opt-out on one call must not carry to another
        self.phones = (f"+1415555{n:04d}" for n in itertools.count(500))

    def bank_settings(self, bank: Bank) -> Settings:
        base = self.settings
        url = f"http://127.0.0.1:{base.app.port}"
        app = base.app.model_copy(
            update={"bank_name": bank.bank_name, "bank_name_en": bank.bank_name_en, "hotline": bank.hotline,
                    "public_base_url": url, "log_to": "file"}  # the app's logs go to the data dir
        )  # fmt: skip
        telephony = base.telephony.model_copy(
            update={
                "account_sid": ACCOUNT, "auth_token": SecretStr(TOKEN), "from_number": CALLER_ID,
                "public_base_url": url, "transfer_number": ADVISOR_DESK,
                # the desk is always open, so a hand-off is a transfer whatever the hour of the run
                "transfer_hours": "00:00-23:59", "transfer_weekdays": [1, 2, 3, 4, 5, 6, 7],
            }
        )  # fmt: skip
        knowledge = base.knowledge.model_copy(update={"source_dir": bank.content})
        return base.model_copy(update={"app": app, "telephony": telephony, "knowledge": knowledge})

    @contextmanager
    def bank(self, bank: Bank) -> Iterator[BankApp]:
        """Ingest the bank's content (reset), then serve its app until the block exits."""
        settings = self.bank_settings(bank)
        report = KnowledgeService.from_settings(settings).ingest(bank.content, reset=True, progress=False)
        if not report.ok:
            raise RunnerError(f"ingesting {bank.content} failed: {report.details()}")
        app = create_app(settings)
        engine = make_engine(settings.database_url)
        try:
            with serve(app, port=settings.app.port) as url:
                yield BankApp(bank, url, settings, session_factory(engine), _history(app, settings))
        finally:
            engine.dispose()


def _history(app: FastAPI, settings: Settings) -> ConversationHistory:
    """Rasa's record of a conversation read back through the app's own renderer and guard (as
    GET /api/chat/history does for web), using the running app's knowledge service."""
    knowledge = app.state.knowledge
    return ConversationHistory(
        tracker_store=settings.tracker_store_path,
        products=lambda: [product_ref(p) for p in knowledge.products()],
        default_language=settings.default_language,
        identity=Identity.from_settings(settings.app),
        approved=getattr(knowledge, "is_approved", None),
    )


@contextmanager
def conversation_stack(data_dir: Path) -> Iterator[ConversationStack]:
    """Train (or reuse) the repo's model and start Rasa, calling its actions at the stack's app port."""
    model, _ = rasa_process.train(load_settings())  # the repo's var/models, shared with `make test`
    settings = stack_settings(data_dir)
    action_url = f"http://127.0.0.1:{settings.app.port}/webhook"
    supervisor = RasaSupervisor.from_settings(
        settings, model=model, action_url=action_url, log_file=data_dir / "rasa.log"
    )
    supervisor.start()
    try:
        supervisor.wait_until_ready(timeout=settings.rasa.startup_timeout_s)
        yield ConversationStack(settings)
    finally:
        supervisor.stop()
