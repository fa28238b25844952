"""What one turn of a conversation showed, and each check of the conversation format scored against it.

Pure functions over an `Observation` (gathered by tests/support/conversation_stack.py from the API
response or the TwiML, Rasa's record of the turn and the database), so the instrument itself is tested
without a stack (tests/unit/test_conversation_checks.py). Signals read in text live in
conversation_signals.yml.
"""

from __future__ import annotations

import re
import unicodedata
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import yaml

SIGNALS = Path(__file__).with_name("conversation_signals.yml")
DISCLOSURE_RULES = Path(__file__).resolve().parents[2] / "bot" / "compliance" / "rules.yml"
_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_WORD = re.compile(r"[A-Za-z]+")
_LOWER = re.compile(r"[a-z]")
# A questionnaire step: "k/N " at the start of a message, a line or a sentence (the questions start so).
_STEP = re.compile(r"(?:^|[\n。！？!?：:]\s*)([1-9])\s*/\s*([1-9])(?=\s|[\u4e00-\u9fff])")
_SLASHES = {"/", "／"}
_INVISIBLE = {"Cc", "Cf", "Zs", "Zl", "Zp"}


@dataclass
class Observation:
    """Everything one client turn produced that a check may look at."""

    texts: list[str]  # the bot's text shown or spoken this turn (voice turn 1: the call opener too)
    language_texts: list[str]  # the same without the AI disclosure and the call opener
    kinds: list[str | None] = field(default_factory=list)  # message kinds ("answer", "declined", ...)
    citations: list[str] = field(default_factory=list)  # source ids shown with the reply
    buttons: bool = False
    new_leads: list[str] = field(default_factory=list)  # types of the leads created during the turn
    new_opt_outs: int = 0  # opt-out / do-not-contact rows created during the turn
    opted_out: bool = False  # the client is registered as opted out after the turn
    hung_up: bool = False  # voice: the TwiML ends the call
    transferred: bool = False  # voice: the TwiML dials an advisor
    callback_booked: bool = False  # voice: a callback time was set on the call attempt this turn

    @property
    def text(self) -> str:
        return "\n".join(self.texts)


class RunnerError(Exception):
    """The runner could not complete a conversation (an HTTP error, invalid TwiML): not a dialogue verdict."""


@dataclass(frozen=True)
class TwiML:
    """One TwiML document as Twilio would follow it."""

    says: list[str]
    gather_url: str | None
    dials: bool
    hangs_up: bool

    @classmethod
    def parse(cls, document: str) -> TwiML:
        try:
            root = ET.fromstring(document)
        except ET.ParseError as exc:
            raise RunnerError(f"invalid TwiML: {exc}: {document[:200]!r}") from exc
        gather = next((node for node in root if node.tag == "Gather"), None)
        return cls(
            says=[say.text or "" for say in root.iter("Say")],
            gather_url=gather.attrib.get("action") if gather is not None else None,
            dials=any(node.tag == "Dial" for node in root),
            hangs_up=any(node.tag == "Hangup" for node in root),
        )

    @property
    def ends_call(self) -> bool:
        """The call ends: a <Hangup/>, or nothing more to follow (no <Gather>, no transfer)."""
        return self.hangs_up or (self.gather_url is None and not self.dials)


@dataclass(frozen=True)
class Check:
    """One check of one turn: its kind, what was expected, whether it held, and what was seen."""

    kind: str
    expected: str
    held: bool
    seen: str


# -- signals ------------------------------------------------------------------------------------------


@cache
def _signals() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(SIGNALS.read_text(encoding="utf-8"))
    return data


@cache
def _injection() -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{p})" for p in _signals()["injection"]), re.IGNORECASE)


@cache
def _level() -> re.Pattern[str]:
    return re.compile(_signals()["risk_level"], re.IGNORECASE)


@cache
def _resume() -> tuple[re.Pattern[str], re.Pattern[str]]:
    words = _signals()["resume"]
    return re.compile(words["assessment"], re.IGNORECASE), re.compile(words["again"], re.IGNORECASE)


@cache
def _disclosure_sentences() -> tuple[str, ...]:
    """The required risk and performance disclosures (both languages): boilerplate, not the reply's language."""
    rules = yaml.safe_load(DISCLOSURE_RULES.read_text(encoding="utf-8"))
    return tuple(text for entry in rules["disclosures"].values() for text in (entry["zh"], entry["en"]))


def is_injected(user: str) -> bool:
    """Junk or injected client text: typed intent syntax ("/x", also after spaces or invisible characters,
    or with a full-width slash) or instruction-injection wording and internal identifiers."""
    text = unicodedata.normalize("NFKC", user)
    first = next((ch for ch in text if unicodedata.category(ch) not in _INVISIBLE), "")
    return first in _SLASHES or bool(_injection().search(text))


def language_of(texts: list[str]) -> str | None:
    """zh when the text is mostly CJK: CJK characters outnumber English words. Acronyms and codes (AI,
    QDII, WM001, T+1) are not words of either language; required disclosure sentences are left out."""
    text = "\n".join(texts)
    for sentence in _disclosure_sentences():
        text = text.replace(sentence, " ")
    cjk = len(_CJK.findall(text))
    words = sum(1 for w in _WORD.findall(text) if _LOWER.search(w))
    if cjk == words == 0:
        return None
    return "zh" if cjk > words else "en"


def steps_shown(texts: list[str]) -> list[int]:
    """The questionnaire steps asked in these texts ("3/6 ..." → 3), in order."""
    return [int(m.group(1)) for text in texts for m in _STEP.finditer(text) if int(m.group(1)) <= int(m.group(2))]


def hotline_pattern(hotline: str) -> re.Pattern[str]:
    """The hotline's digits in order, with or without spaces or hyphens between them."""
    digits = [d for d in hotline if d.isdigit()]
    return re.compile(r"(?<!\d)" + r"[\s\-]?".join(digits) + r"(?!\d)")


# -- the questionnaire, followed over the conversation ---------------------------------------------


class Questionnaire:
    """The step the client was last shown; each turn is judged against it.

    Only a step shown moves it: whether a reply without a step ended the form is read from that reply
    alone (a result, or words on how to resume), so one misread turn does not skew the next.
    """

    def __init__(self) -> None:
        self.step: int | None = None  # the last step shown; None before any

    def observe(self, texts: list[str]) -> str:
        """What this turn did to the questionnaire: started, next_step, same_step, completed, cancelled,
        none, or other (a step shown out of order)."""
        before, steps = self.step, steps_shown(texts)
        if steps:
            self.step = steps[-1]
            if self.step == 1 and before != 1:
                return "started"
            if before is not None and self.step == before + 1:
                return "next_step"
            return "same_step" if self.step == before else "other"
        text = "\n".join(texts)
        if before is None:
            return "none"
        if _level().search(text):
            return "completed"
        assessment, again = _resume()
        return "cancelled" if assessment.search(text) and again.search(text) else "none"


def questionnaire_held(expected: str, outcome: str) -> bool:
    """`none` means no step shown, which a form that completed or was cancelled this turn also satisfies."""
    if expected == "none":
        return outcome in {"none", "completed", "cancelled"}
    return expected == outcome


# -- one turn's checks ------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Context:
    questionnaire: str  # what the turn did to the questionnaire (Questionnaire.observe)
    hotline: str  # the bank's configured hotline


Verdict = tuple[bool, str]  # held, and what was seen


def _language(value: str, seen: Observation, _: _Context) -> Verdict:
    got = language_of(seen.language_texts or seen.texts)
    return got == value, str(got)


def _cites_any(value: list[str], seen: Observation, _: _Context) -> Verdict:
    return bool(set(value) & set(seen.citations)), ",".join(seen.citations) or "no citation"


def _says_any(value: list[str], seen: Observation, _: _Context) -> Verdict:
    return any(n.casefold() in seen.text.casefold() for n in value), _excerpt(seen.text)


def _not_says(value: list[str], seen: Observation, _: _Context) -> Verdict:
    found = [n for n in value if n.casefold() in seen.text.casefold()]
    return not found, ",".join(found) or "none"


def _declines(value: bool, seen: Observation, _: _Context) -> Verdict:
    declined = "declined" in seen.kinds and not seen.citations
    return declined == value, f"kinds={seen.kinds} citations={len(seen.citations)}"


def _hotline(value: bool, seen: Observation, ctx: _Context) -> Verdict:
    given = bool(hotline_pattern(ctx.hotline).search(seen.text))
    return given == value, f"hotline {'given' if given else 'not given'}"


def _lead(value: str, seen: Observation, _: _Context) -> Verdict:
    shown = ",".join(seen.new_leads) or "no new lead"
    if value == "none":
        return not seen.new_leads, shown
    return (bool(seen.new_leads) if value == "any" else value in seen.new_leads), shown


def _opt_out(value: bool, seen: Observation, _: _Context) -> Verdict:
    return seen.opted_out == value, f"opted_out={seen.opted_out}"


def _questionnaire(value: str, _: Observation, ctx: _Context) -> Verdict:
    return questionnaire_held(value, ctx.questionnaire), ctx.questionnaire


def _hangup(value: bool, seen: Observation, _: _Context) -> Verdict:
    return seen.hung_up == value, f"hung_up={seen.hung_up}"


def _transfer_or_callback(value: bool, seen: Observation, _: _Context) -> Verdict:
    got = seen.transferred or seen.callback_booked or "callback_request" in seen.new_leads
    return got == value, f"transferred={seen.transferred} callback={seen.callback_booked} leads={seen.new_leads}"


def _buttons(value: bool, seen: Observation, _: _Context) -> Verdict:
    return seen.buttons == value, f"buttons={seen.buttons}"


_CHECKS: dict[str, Callable[[Any, Observation, _Context], Verdict]] = {
    "language": _language, "cites_any": _cites_any, "says_any": _says_any, "not_says": _not_says,
    "declines": _declines, "hotline": _hotline, "lead": _lead, "opt_out": _opt_out,
    "questionnaire": _questionnaire, "hangup": _hangup, "transfer_or_callback": _transfer_or_callback,
    "buttons": _buttons,
}  # fmt: skip


def evaluate(expect: list[tuple[str, Any]], seen: Observation, *, questionnaire: str, hotline: str) -> list[Check]:
    """Each written check of a turn against what the turn showed (`questionnaire`: Questionnaire.observe)."""
    ctx = _Context(questionnaire, hotline)
    return [Check(kind, _expected(value), *_CHECKS[kind](value, seen, ctx)) for kind, value in expect]


def not_reached(expect: list[tuple[str, Any]], why: str) -> list[Check]:
    """A turn the client never got to say (the call had ended): none of its checks held."""
    return [Check(kind, _expected(value), False, why) for kind, value in expect]


def _expected(value: Any) -> str:
    return ",".join(value) if isinstance(value, list) else str(value).lower()


def _excerpt(text: str, limit: int = 160) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"
