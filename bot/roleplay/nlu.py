"""Recognising the advisor's moves: KYC questions, recommendations, disclosures, empathy, pressure.

Patterns live in moves.yml; recommendations, forbidden claims, abuse of the risk assessment and the
levels clients state come from the compliance guard, so the role-play judges an advisor exactly where
the live bot's guard would. Pure and deterministic (regexes only), so the scripted client and the
scorer agree on every turn.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, field_validator

from bot.compliance import ProductRef, Violation, check, recommended, stated_level
from bot.errors import ConfigError
from bot.roleplay.personas import compile_pattern

MOVES_FILE = Path(__file__).with_name("moves.yml")
ADVISOR_MOVES = (
    "greeting",
    "introduction",
    "question",
    "risk_question",
    "questionnaire_invite",
    "empathy",
    "explanation",
    "disclosure",
    "recommendation",
    "pressure",
    "rude",
    "closing",
    "thanks",
    "polite",
)
_NEEDS_QUESTION = frozenset({"risk_question"})
#: Moves read from the guard's verdict: the advisor did or steered the assessment (第二十五条(八)),
#: or sold before it.
_GUARD_MOVES = {"assessment_coaching": "assess_for_client", "sale_before_assessment": "sale_before_assessment"}
_MEMO_SIZE = 4096
#: Guard rules about what was claimed (not about whom it was sold to).
CLAIM_RULES = frozenset({"guarantee", "certain_return", "deposit_confusion", "expected_return", "exaggeration"})


class _Topic(BaseModel):
    """What an objection is about (in the client's words) and what an answer on it talks about."""

    model_config = ConfigDict(extra="forbid")

    client: str
    answer: str


class _ClientPatterns(BaseModel):
    model_config = ConfigDict(extra="forbid")

    objection: list[str]
    topics: dict[str, _Topic]


class MoveFile(BaseModel):
    """moves.yml, validated."""

    model_config = ConfigDict(extra="forbid")

    advisor: dict[str, list[str]]
    client: _ClientPatterns

    @field_validator("advisor")
    @classmethod
    def _known_moves(cls, value: dict[str, list[str]]) -> dict[str, list[str]]:
        missing = set(ADVISOR_MOVES) - set(value)
        unknown = set(value) - set(ADVISOR_MOVES)
        if missing or unknown:
            raise ValueError(f"advisor moves: missing {sorted(missing)}, unknown {sorted(unknown)}")
        return value


@dataclass(frozen=True, slots=True)
class Recommended:
    """A catalogue product the advisor recommended, with the sentence that did it."""

    code: str
    name: str
    risk_level: str
    quote: str
    is_wealth: bool = True  # deposits and bonds need no risk assessment to be recommended


@dataclass(frozen=True, slots=True)
class TurnAnalysis:
    """Everything the engines and the scorer need to know about one advisor message."""

    text: str
    moves: frozenset[str]
    recommended: tuple[Recommended, ...]
    violations: tuple[Violation, ...]  # guard findings at the client's level: claims and suitability
    topics: frozenset[str] = frozenset()  # objection topics the message speaks to (loss, liquidity, ...)

    def has(self, *moves: str) -> bool:
        return any(m in self.moves for m in moves)

    @property
    def critical_claims(self) -> tuple[Violation, ...]:
        return tuple(v for v in self.violations if v.critical and v.rule in CLAIM_RULES)


class Recogniser:
    """Advisor-move and client-turn recognition over one catalogue."""

    def __init__(self, catalogue: Sequence[ProductRef], moves_file: Path = MOVES_FILE) -> None:
        data = _load(moves_file)
        self._advisor = {name: [compile_pattern(p) for p in pats] for name, pats in data.advisor.items()}
        self._objection = [compile_pattern(p) for p in data.client.objection]
        self._topics = {
            name: (compile_pattern(t.client), compile_pattern(t.answer)) for name, t in data.client.topics.items()
        }
        self._catalogue = tuple(catalogue)
        # Recognition is pure and sessions replay their history every turn, so recent answers are kept.
        self._memo: dict[tuple[str, str | None], TurnAnalysis] = {}

    def advisor(self, text: str, client_level: str | None) -> TurnAnalysis:
        """Moves, recommended products and guard findings of one advisor message."""
        key = (text, client_level)
        found = self._memo.get(key)
        if found is None:
            found = self._advisor_turn(text, client_level)
            if len(self._memo) >= _MEMO_SIZE:
                self._memo.clear()  # worker threads share it: only atomic dict operations are used
            self._memo[key] = found
        return found

    def _advisor_turn(self, text: str, client_level: str | None) -> TurnAnalysis:
        moves = {name for name, pats in self._advisor.items() if any(p.search(text) for p in pats)}
        if "question" not in moves:
            moves -= _NEEDS_QUESTION
        recommended = self._recommended(text)
        if recommended:
            moves.add("recommendation")
        verdict = check(text, client_risk_level=client_level, products=self._catalogue, require_disclosures=False)
        violations = tuple(v for v in verdict.violations if v.rule != "risk_level_unknown")
        moves |= {_GUARD_MOVES[v.rule] for v in violations if v.rule in _GUARD_MOVES}
        answers = frozenset(name for name, (_, answer) in self._topics.items() if answer.search(text))
        return TurnAnalysis(text, frozenset(moves), recommended, violations, answers)

    def _recommended(self, text: str) -> tuple[Recommended, ...]:
        """Products the guard sees recommended (its suitability rule's own reading)."""
        found: dict[str, Recommended] = {}
        for rec in recommended(text, products=self._catalogue):
            p = rec.product
            found.setdefault(p.code, Recommended(p.code, p.name, p.risk_level, rec.span, p.is_wealth))
        return tuple(found.values())

    def is_objection(self, text: str) -> bool:
        """True when a client turn pushes back in a way the advisor has to address."""
        return any(p.search(text) for p in self._objection)

    def objection_topics(self, text: str) -> frozenset[str]:
        """What a client's objection is about (loss, liquidity, return, defer), by the words she uses."""
        return frozenset(name for name, (client, _) in self._topics.items() if client.search(text))

    @staticmethod
    def stated_level(text: str) -> str | None:
        """The investor level a client states, read by the guard's level vocabulary (negations skipped)."""
        return stated_level(text)


def _load(path: Path) -> MoveFile:
    try:
        return MoveFile.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))
    except (OSError, yaml.YAMLError, ValueError) as exc:
        raise ConfigError(f"role-play moves file {path.name}: {exc}") from exc


def matches(pattern: str, text: str) -> bool:
    """Case-insensitive search of a persona regex (compiled once per pattern)."""
    return _compiled(pattern).search(text) is not None


@cache
def _compiled(pattern: str) -> re.Pattern[str]:
    return compile_pattern(pattern)
