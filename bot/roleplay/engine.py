"""The scripted client: a persona's objection tree and hidden needs, driven by the advisor's moves.

Each advisor message is folded into a ClientState and turned into "beats" (accept an answer, reveal
a need, raise an objection, react to a guarantee...). The scripted engine renders beats from the
persona's lines; the LLM engine gets the same beats as stage directions. So the state, and what the
advisor has earned, is the same whichever engine speaks. Variants are chosen with a per-turn RNG
seeded from (seed, turn): a session replays identically under the same seed.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import yaml

from bot.errors import ConfigError
from bot.roleplay.nlu import Recogniser, TurnAnalysis, matches
from bot.roleplay.personas import HiddenNeed, Objection, Persona

REPLIES_FILE = Path(__file__).with_name("replies.yml")
MAX_BEATS = 3
ObjectionStatus = Literal["pending", "handled", "ignored"]


@dataclass(frozen=True, slots=True)
class Beat:
    """One thing the client does in a reply; ``ref`` names the objection or need it concerns."""

    kind: str
    ref: str | None = None


@dataclass
class ObjectionState:
    """Where one raised objection stands."""

    status: ObjectionStatus = "pending"
    attempts: int = 0
    raised_turn: int = 0


@dataclass
class ClientState:
    """What the client knows and has said so far; rebuilt by replaying the advisor's messages."""

    turn: int = 0
    uncovered: dict[str, int] = field(default_factory=dict)  # need id -> advisor turn that earned it
    hinted: set[str] = field(default_factory=set)
    guarded: set[str] = field(default_factory=set)
    objections: dict[str, ObjectionState] = field(default_factory=dict)
    pending: str | None = None
    queued: list[str] = field(default_factory=list)
    risk_asked_turn: int | None = None
    first_recommendation_turn: int | None = None
    rapport: bool = False
    closed: bool = False
    used: set[str] = field(default_factory=set)


@dataclass(frozen=True, slots=True)
class Step:
    """One client turn: the analysis of the advisor's message, the beats, and the scripted text."""

    analysis: TurnAnalysis | None
    beats: tuple[Beat, ...]
    parts: tuple[str, ...]  # one scripted line per beat (the LLM engine gets them as examples)
    language: str

    @property
    def text(self) -> str:
        return ("" if self.language == "zh" else " ").join(self.parts)


def handles(analysis: TurnAnalysis, objection: Objection | None, topics: frozenset[str] = frozenset()) -> bool:
    """Whether an advisor message answers an objection: it speaks to what the client raised (the
    persona's own resolution words, or the objection's topic: loss, liquidity, return; a wish to think
    it over is answered by accepting it), or it shows empathy and explains.

    Substance counts even when the wording is non-compliant or impatient (those fail compliance and
    courtesy on their own), but a rude reply must explain something to count; pressure or doing the
    client's questionnaire never counts as handling.
    """
    if analysis.has("pressure", "assess_for_client") or (analysis.has("rude") and not analysis.has("explanation")):
        return False
    if objection is not None and matches(objection.resolved_by, analysis.text):
        return True
    if topics & analysis.topics:
        return True
    if objection is not None:
        return analysis.has("empathy") and analysis.has("explanation")
    return analysis.has("empathy") and analysis.has("explanation", "question")


def load_replies(path: Path = REPLIES_FILE) -> dict[str, dict[str, list[str]]]:
    """Default client lines per language (replies.yml)."""
    try:
        data: dict[str, dict[str, list[str]]] = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"role-play replies file {path.name}: {exc}") from exc
    if set(data) != {"zh", "en"} or data["zh"].keys() != data["en"].keys():
        raise ConfigError(f"{path.name}: needs the same keys under zh and en")
    return data


class ScriptedClient:
    """Plays one persona without an LLM; also plans the beats the LLM engine is asked to act out."""

    def __init__(self, persona: Persona, recogniser: Recogniser, replies: dict[str, dict[str, list[str]]]) -> None:
        self.persona = persona
        self._recogniser = recogniser
        self._lines = {**replies[persona.language], **persona.lines}

    def opening(self, seed: int) -> tuple[ClientState, Step]:
        """The client's first line (with any objection raised at once) and the initial state."""
        state = ClientState()
        beats = [Beat("opening")]
        first = next((o for o in self.persona.objections if o.when == "opening"), None)
        if first is not None:
            self._raise(state, first.id)
            beats.append(Beat("object", first.id))
        return state, self._step(None, state, beats, _rng(seed, 0))

    def replay(self, seed: int, advisor_texts: list[str]) -> tuple[ClientState, list[Step]]:
        """Fold a whole conversation: the state after it and every client step, reproducibly."""
        state, first = self.opening(seed)
        steps = [first]
        for text in advisor_texts:
            steps.append(self.step(state, text, seed))
        return state, steps

    def step(self, state: ClientState, advisor_text: str, seed: int) -> Step:
        """Advance ``state`` by one advisor message and produce the client's scripted reply."""
        analysis = self._recogniser.advisor(advisor_text, self.persona.risk_level)
        beats = self.plan(state, analysis)
        return self._step(analysis, state, beats, _rng(seed, state.turn))

    def _step(self, analysis: TurnAnalysis | None, state: ClientState, beats: list[Beat], rng: random.Random) -> Step:
        parts = self.render(state, beats, rng)
        return Step(analysis, tuple(beats), tuple(parts), self.persona.language)

    def plan(self, state: ClientState, a: TurnAnalysis) -> list[Beat]:
        """The beats of the client's next reply (mutates ``state``)."""
        state.turn += 1
        if state.closed:
            return [Beat("after_close")]
        beats: list[Beat] = []
        if a.has("rude"):
            state.rapport = False
            beats.append(Beat("rude"))
        elif a.critical_claims:
            beats.append(Beat("guarantee"))
        elif a.has("pressure"):
            beats.append(Beat("pressure"))
        elif a.has("empathy"):
            state.rapport = True
        answered = self._answer_pending(state, a, beats)
        if a.has("risk_question"):
            if state.risk_asked_turn is None:
                state.risk_asked_turn = state.turn
                beats.append(Beat("risk_answer"))
            else:
                beats.append(Beat("risk_repeat"))
        if a.has("question"):
            self._discover(state, a, beats)
        if a.has("recommendation"):
            self._recommendation(state, a, beats)
        if a.has("closing"):
            state.closed = True  # an objection still open stays unanswered in the score
            beats.append(Beat("closing"))
        if not answered and state.pending is None and not state.closed:
            upcoming = self._next_objection(state)
            if upcoming is not None:
                self._raise(state, upcoming)
                beats.append(Beat("object", upcoming))
        if not beats:
            beats.append(self._filler(state, a))
        return beats[:MAX_BEATS]

    def _answer_pending(self, state: ClientState, a: TurnAnalysis, beats: list[Beat]) -> bool:
        """Judge the advisor's answer to the open objection; follow the tree. True if one was open."""
        if state.pending is None:
            return False
        obj = self.persona.objection(state.pending)
        status = state.objections[obj.id]
        if handles(a, obj):  # the persona judges by its own resolution words, not by topic
            status.status = "handled"
            state.pending = None
            beats.append(Beat("accept", obj.id))
            if obj.on_handled:
                state.queued.append(obj.on_handled)
        elif status.attempts == 0:
            status.attempts = 1
            beats.append(Beat("escalate", obj.id))
        else:
            status.status = "ignored"
            state.pending = None
            if obj.on_ignored and obj.on_ignored not in state.objections:
                # Ignored twice, the client escalates at once (the follow-up is the escalation).
                self._raise(state, obj.on_ignored)
                beats.append(Beat("object", obj.on_ignored))
        return True

    def _discover(self, state: ClientState, a: TurnAnalysis, beats: list[Beat]) -> None:
        """Reveal up to two hidden needs the question reaches, if their conditions are met."""
        revealed = 0
        for need in self.persona.hidden_needs:
            if need.id in state.uncovered or not matches(need.triggers, a.text):
                continue
            if self._earned(state, need):
                state.uncovered[need.id] = state.turn
                beats.append(Beat("reveal", need.id))
                revealed += 1
            elif need.id not in state.guarded:
                state.guarded.add(need.id)
                beats.append(Beat("guarded", need.id))
            if revealed == 2:
                break

    def _earned(self, state: ClientState, need: HiddenNeed) -> bool:
        for cond in need.requires:
            if cond == "rapport" and not state.rapport:
                return False
            if cond == "risk_question" and state.risk_asked_turn is None:
                return False
            if cond.startswith("objection:"):
                got = state.objections.get(cond.split(":", 1)[1])
                if got is None or got.status != "handled":
                    return False
        return True

    def _recommendation(self, state: ClientState, a: TurnAnalysis, beats: list[Beat]) -> None:
        first = state.first_recommendation_turn is None
        if first:
            state.first_recommendation_turn = state.turn
        level = int(self.persona.risk_level[1])
        wanted = any(r.code in self.persona.wants for r in a.recommended)
        above = any(int(r.risk_level[1]) > level for r in a.recommended)
        if wanted:
            beats.append(Beat("wanted"))
        elif above:
            beats.append(Beat("above_level"))
        elif first and not state.uncovered and state.risk_asked_turn is None and not beats:
            beats.append(Beat("premature"))
        elif a.recommended:
            beats.append(Beat("suitable"))
        if not wanted and state.pending is None:
            triggers = {"recommendation", "above_level"} if above else {"recommendation"}
            for obj in self.persona.objections:
                if obj.when in triggers and obj.id not in state.objections and obj.id not in state.queued:
                    state.queued.append(obj.id)
                    break

    def _next_objection(self, state: ClientState) -> str | None:
        while state.queued:
            candidate = state.queued.pop(0)
            if candidate not in state.objections:
                return candidate
        for obj in self.persona.objections:
            if obj.id in state.objections:
                continue
            kind, _, arg = obj.when.partition(":")
            if (
                (kind == "turn" and state.turn >= int(arg))
                or (kind == "need" and arg in state.uncovered)
                or (kind == "risk_question" and state.risk_asked_turn is not None)
            ):
                return obj.id
        return None

    def _raise(self, state: ClientState, objection_id: str) -> None:
        state.objections[objection_id] = ObjectionState(raised_turn=state.turn)
        state.pending = objection_id

    def _filler(self, state: ClientState, a: TurnAnalysis) -> Beat:
        if a.has("disclosure"):
            return Beat("disclosure_ack")
        if state.turn == 1 and a.has("greeting") and not a.has("question"):
            return Beat("greeting_reply")
        if a.has("question"):
            for need in self.persona.hidden_needs:
                if need.hint and need.id not in state.uncovered and need.id not in state.hinted:
                    state.hinted.add(need.id)
                    return Beat("hint", need.id)
            return Beat("answer_generic")
        return Beat("small_talk")

    def lines_for(self, beat: Beat) -> list[str]:
        """The persona's candidate lines for a beat."""
        p = self.persona
        if beat.kind == "opening":
            return p.opening
        if beat.kind == "risk_answer":
            return p.risk_answer
        if beat.ref is not None and beat.kind in {"accept", "escalate", "object"}:
            obj = p.objection(beat.ref)
            return {"accept": obj.accept, "escalate": obj.escalate, "object": obj.says}[beat.kind]
        if beat.ref is not None and beat.kind in {"reveal", "hint", "guarded"}:
            need = p.need(beat.ref)
            lines = {"reveal": need.reveal, "hint": need.hint, "guarded": need.guarded}[beat.kind]
            if lines:
                return lines
        return self._lines.get(beat.kind) or self._lines["small_talk"]

    def render(self, state: ClientState, beats: list[Beat], rng: random.Random) -> list[str]:
        """One line per beat, each a seeded pick that avoids repeating itself."""
        parts: list[str] = []
        for beat in beats:
            options = self.lines_for(beat)
            fresh = [line for line in options if line not in state.used] or options
            line = rng.choice(fresh)
            state.used.add(line)
            parts.append(line)
        return parts


def _rng(seed: int, turn: int) -> random.Random:
    """A generator per turn, so one turn's choices never shift another's."""
    return random.Random(f"{seed}:{turn}")
