"""The multi-turn conversation set (tests/data/heldout/conversations.yml): its schema, and running it.

What each check means, and how it is read, is in the README ("Measuring the dialogue"). Each conversation
runs end to end against the real stack (tests/support/conversation_stack.py): web turns through
POST /api/chat with a fresh sender id, voice turns through the signed Twilio webhooks of a call (the call
opener first, then each client turn as a SpeechResult). Every check is scored separately
(tests/support/conversation_checks.py) and summed up per split (tests/support/conversation_report.py).

The set is loaded strictly: an unknown key or a check on the wrong channel is an error, never a check
silently skipped.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import httpx
import yaml
from pydantic import BaseModel, ConfigDict, model_validator

from tests.support.conversation_checks import Check, Observation, Questionnaire, RunnerError, evaluate, not_reached
from tests.support.conversation_stack import BANKS, BankApp, Caller, ConversationStack, Effects

CONVERSATIONS = Path(__file__).resolve().parents[2] / "tests" / "data" / "heldout" / "conversations.yml"
Split = Literal["dev", "holdout"]
SPLITS: tuple[Split, ...] = ("dev", "holdout")
LeadExpectation = Literal["none", "any", "advisor_request", "product_interest", "callback_request", "complaint"]
Progress = Literal["started", "next_step", "completed", "cancelled", "same_step", "none"]
RECOGNISER_CONFIDENCE = "0.92"  # what the simulator reports for recognised speech


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Expect(_Strict):
    """One turn's checks; a check left out is not scored."""

    language: Literal["zh", "en"] | None = None
    cites_any: list[str] | None = None
    says_any: list[str] | None = None
    not_says: list[str] | None = None
    declines: bool | None = None
    hotline: bool | None = None
    lead: LeadExpectation | None = None
    opt_out: bool | None = None
    questionnaire: Progress | None = None
    hangup: bool | None = None
    transfer_or_callback: bool | None = None
    buttons: bool | None = None

    def items(self) -> list[tuple[str, Any]]:
        """The checks written for this turn, in the format's order."""
        return [(name, value) for name, value in self.model_dump().items() if value is not None]


class Turn(_Strict):
    user: str
    expect: Expect


class Client(_Strict):
    """What the bank's client list knows about the person called (voice only)."""

    risk_level: str | None = None
    name: str | None = None


class Conversation(_Strict):
    id: str
    split: Split
    bank: Literal["demo", "bank2"]
    channel: Literal["web", "voice"]
    language: Literal["zh", "en"]
    note: str
    client: Client | None = None
    turns: list[Turn]

    @model_validator(mode="after")
    def _checks_fit_the_channel(self) -> Conversation:
        wrong = {"hangup", "transfer_or_callback"} if self.channel == "web" else {"buttons"}
        for number, turn in enumerate(self.turns, 1):
            misplaced = wrong & {name for name, _ in turn.expect.items()}
            if misplaced:
                raise ValueError(f"{self.id} turn {number}: {sorted(misplaced)} cannot be checked on {self.channel}")
        if self.client is not None and self.channel != "voice":
            raise ValueError(f"{self.id}: `client` is for voice conversations only")
        return self

    @property
    def kind(self) -> str:
        """How the report groups conversations: the channel and the client's language."""
        return f"{self.channel}/{self.language}"


def load_conversations(path: Path = CONVERSATIONS) -> list[Conversation]:
    """Every conversation of the set, validated; a duplicate id is an error."""
    conversations = [Conversation.model_validate(item) for item in yaml.safe_load(path.read_text(encoding="utf-8"))]
    ids = [c.id for c in conversations]
    if len(ids) != len(set(ids)):
        raise ValueError(f"{path.name}: duplicate conversation ids")
    return conversations


@dataclass
class TurnResult:
    """One client turn: what it showed (None if the client never got to say it) and each check's verdict."""

    user: str
    checks: list[Check]
    seen: Observation | None = None


@dataclass
class ConversationResult:
    conversation: Conversation
    turns: list[TurnResult] = field(default_factory=list)
    error: str | None = None  # the runner could not complete it (HTTP error, invalid TwiML, a crash)


@dataclass
class SplitRun:
    """Every conversation of one split, each run against its bank's content and identity."""

    split: Split
    results: list[ConversationResult]
    seconds: float


# -- running ------------------------------------------------------------------------------------------


def run_split(stack: ConversationStack, conversations: Sequence[Conversation], split: Split) -> SplitRun:
    """The split's conversations, bank by bank (the app restarted with that bank's content and identity)."""
    started = time.perf_counter()
    results: list[ConversationResult] = []
    for bank in sorted({c.bank for c in conversations if c.split == split}):
        group = [c for c in conversations if c.split == split and c.bank == bank]
        with stack.bank(BANKS[bank]) as app:
            results += asyncio.run(_run_all(app, group, stack.phones))
    return SplitRun(split, results, round(time.perf_counter() - started, 1))


async def _run_all(
    app: BankApp, conversations: Sequence[Conversation], phones: Iterator[str]
) -> list[ConversationResult]:
    """One at a time: every row created during a turn then belongs to that turn."""
    async with httpx.AsyncClient(timeout=60) as http:
        return [await run_conversation(app, http, c, phones) for c in conversations]


async def run_conversation(
    app: BankApp, http: httpx.AsyncClient, conversation: Conversation, phones: Iterator[str]
) -> ConversationResult:
    """Run one conversation; a failure of the runner is recorded as its error (and its unscored turns
    count as not held), so the rest of the set still runs and the report shows it."""
    result = ConversationResult(conversation)
    try:
        if conversation.channel == "web":
            await _web(app, http, conversation, result)
        else:
            await _voice(app, http, conversation, result, phone=next(phones))
    except Exception as exc:  # any crash is the runner's error: reported, and asserted on by the e2e test
        result.error = f"turn {len(result.turns) + 1}: {type(exc).__name__}: {exc}"
    for turn in conversation.turns[len(result.turns) :]:
        result.turns.append(TurnResult(turn.user, not_reached(turn.expect.items(), "runner error")))
    return result


async def _web(app: BankApp, http: httpx.AsyncClient, conversation: Conversation, result: ConversationResult) -> None:
    sender = secrets.token_hex(24)  # a fresh conversation, shaped like the web page's ids
    keys = [f"web:{sender}"]
    form = Questionnaire()
    for turn in conversation.turns:
        before = await asyncio.to_thread(app.marks)
        response = await http.post(f"{app.url}/api/chat", json={"sender_id": sender, "message": turn.user})
        if response.status_code != 200:
            raise RunnerError(f"/api/chat answered {response.status_code}: {response.text[:200]}")
        messages: list[dict[str, Any]] = response.json()["messages"]
        effects = await asyncio.to_thread(app.effects, before, client_keys=keys, phone=None, attempt_id=None)
        seen = _observation(
            [m["text"] for m in messages],
            [m["text"] for m in messages if m.get("kind") != "ai_disclosure"],
            messages,
            effects,
            buttons=any(m.get("buttons") for m in messages),
        )
        result.turns.append(_scored(turn, seen, form, app))


async def _voice(
    app: BankApp, http: httpx.AsyncClient, conversation: Conversation, result: ConversationResult, *, phone: str
) -> None:
    """An outbound call answered by a person: the opener, then each turn as what the recogniser heard."""
    client = conversation.client or Client()
    client_id = f"{conversation.id}-{secrets.token_hex(4)}"
    attempt = await asyncio.to_thread(
        app.add_call, client_id=client_id, phone=phone, name=client.name or "客户",
        language=conversation.language, risk_level=client.risk_level,
    )  # fmt: skip
    call_sid = "CA" + secrets.token_hex(16)
    caller = Caller(http, call_sid=call_sid, to=phone)
    keys = [client_id, f"voice:{call_sid}"]
    document = await caller.twiml(f"{app.url}/voice/answer?attempt={attempt}", {})
    opener, form = document.says, Questionnaire()
    for turn in conversation.turns:
        if document.gather_url is None:  # hung up or transferred: the client cannot say the rest
            why = "the call was transferred before this turn" if document.dials else "the call had ended"
            result.turns.append(TurnResult(turn.user, not_reached(turn.expect.items(), why)))
            continue
        before = await asyncio.to_thread(app.marks, attempt)
        document = await caller.twiml(
            document.gather_url, {"SpeechResult": turn.user, "Confidence": RECOGNISER_CONFIDENCE}
        )
        messages = await app.bot_messages(f"voice:{call_sid}")
        effects = await asyncio.to_thread(app.effects, before, client_keys=keys, phone=phone, attempt_id=attempt)
        seen = _observation([*opener, *document.says], document.says, messages, effects)
        seen.hung_up, seen.transferred = document.ends_call, document.dials
        opener = []
        result.turns.append(_scored(turn, seen, form, app))
    await caller.post(f"{app.url}/voice/status?attempt={attempt}", {"CallStatus": "completed", "CallDuration": "60"})


def _observation(
    texts: list[str],
    language_texts: list[str],
    messages: list[dict[str, Any]],
    effects: Effects,
    *,
    buttons: bool = False,
) -> Observation:
    return Observation(
        texts=texts,
        language_texts=language_texts,
        kinds=[m.get("kind") for m in messages],
        citations=[c["id"] for m in messages for c in m.get("citations") or []],
        buttons=buttons,
        new_leads=effects.new_leads,
        new_opt_outs=effects.new_opt_outs,
        opted_out=effects.opted_out,
        callback_booked=effects.callback_booked,
    )


def _scored(turn: Turn, seen: Observation, form: Questionnaire, app: BankApp) -> TurnResult:
    progress = form.observe(seen.texts)
    checks = evaluate(turn.expect.items(), seen, questionnaire=progress, hotline=app.bank.hotline)
    return TurnResult(turn.user, checks, seen)
