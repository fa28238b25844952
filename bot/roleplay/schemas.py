"""Typed boundary of role-play training: transcripts, score reports, and the API's bodies.

The score report is a contract (`advisor roleplay score --json` and the API return it): per
criterion `score`, `max`, `passed` and `evidence` quotes; overall `score`, `max_score` and `passed`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field, field_validator

from bot.language import Language
from bot.roleplay.personas import PersonaCard

Role = Literal["advisor", "client"]
Engine = Literal["scripted", "llm"]
CriterionId = Literal[
    "compliance", "disclosure", "kyc", "suitability", "needs_discovery", "objection_handling", "courtesy"
]


class TranscriptTurn(BaseModel):
    """One line of a transcript: who spoke and what they said."""

    role: Role
    text: str = Field(min_length=1, max_length=4000)

    @field_validator("text")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("text must not be blank")
        return value


class Evidence(BaseModel):
    """A quote (or a note on something missing) backing a criterion's score."""

    turn: int | None = None  # 1-based position in the transcript
    role: Role | None = None
    quote: str | None = None
    rule: str | None = None
    note: str | None = None


class CriterionScore(BaseModel):
    """One rubric line."""

    id: CriterionId
    name: str
    name_en: str
    score: float
    max: float
    passed: bool
    gate: bool = False  # failing a gate criterion fails the whole session
    evidence: list[Evidence]
    comment: str | None = None  # from the LLM judge, when one is configured


class Finding(BaseModel):
    """A violation kept in history for the team view (guard rules and role-play rules alike)."""

    rule: str
    critical: bool
    quote: str | None = None
    turn: int | None = None


class Report(BaseModel):
    """The end-of-session score: deterministic checks, plus judge comments when an LLM is configured."""

    persona_id: str
    persona_name: str
    client_risk_level: str
    score: float
    max_score: float
    percent: float
    passed: bool
    pass_mark: float
    criteria: dict[str, CriterionScore]
    violations: list[Finding]
    judge_comment: str | None = None
    judge_error: str | None = None
    turns: int
    session_id: str | None = None
    advisor_id: str | None = None


class StartRequest(BaseModel):
    """Start a session: who trains, against whom, and the seed that makes it reproducible."""

    persona_id: str = Field(min_length=1, max_length=64)
    # The logged-in advisor's own id (the account decides it; a different one is refused).
    advisor_id: str | None = Field(default=None, min_length=1, max_length=128, pattern=r"^[\w.:@-]+$")
    seed: int | None = Field(default=None, ge=0, le=2**31 - 1)


class MessageRequest(BaseModel):
    """One advisor message."""

    text: str = Field(min_length=1, max_length=1000)

    @field_validator("text")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("message must not be empty / 消息不能为空")
        return value.strip()


class TurnView(BaseModel):
    """A stored turn as the page shows it."""

    position: int
    role: Role
    text: str
    engine: Engine | None = None


class SessionView(BaseModel):
    """A session with its transcript (and its report once ended)."""

    session_id: str
    advisor_id: str
    persona: PersonaCard
    language: Language
    seed: int
    status: Literal["active", "ended"]
    started_at: datetime
    ended_at: datetime | None = None
    turns: list[TurnView]
    report: Report | None = None


class ReplyView(BaseModel):
    """The client's answer to one advisor message."""

    reply: TurnView
    moves: list[str]  # what the NLU recognised in the advisor's message
    fallback: bool = False  # the LLM failed and the scripted engine answered this turn
    finished: bool = False  # the client has said goodbye


class SessionSummary(BaseModel):
    """One line of an advisor's history."""

    session_id: str
    persona_id: str
    status: Literal["active", "ended"]
    started_at: datetime
    score: float | None = None
    max_score: float | None = None
    passed: bool | None = None


class CriterionAverage(BaseModel):
    """Team average for one criterion."""

    id: str
    name: str
    name_en: str
    average: float
    max: float
    pass_rate: float
    sessions: int


class ViolationCount(BaseModel):
    """How often a rule was broken across the team, with one example quote."""

    rule: str
    critical: bool
    count: int
    example: str | None = None


class AdvisorAverage(BaseModel):
    """One advisor's line in the team view."""

    advisor_id: str
    sessions: int
    average_percent: float
    passed: int


class TeamView(BaseModel):
    """Averages per criterion and the most frequent violations over ended sessions."""

    sessions: int
    advisors: list[AdvisorAverage]
    criteria: list[CriterionAverage]
    top_violations: list[ViolationCount]
