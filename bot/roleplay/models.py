"""Role-play history tables on the shared Base: sessions, turns, and each session's scores and violations.

Per-criterion scores and violations get their own rows (besides the full report as JSON) so the
team view is a GROUP BY, not a scan of every report. Schema changes go through the Alembic
migration in bot/migrations/versions/0003_roleplay.py, which must match these classes.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, DateTime, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bot.db import Base, utcnow


class TrainingSession(Base):
    """One role-play: who trained, against which persona, under which seed, and the outcome."""

    __tablename__ = "roleplay_sessions"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    advisor_id: Mapped[str] = mapped_column(String(128), index=True)
    persona_id: Mapped[str] = mapped_column(String(64))
    seed: Mapped[int] = mapped_column(Integer)
    language: Mapped[str] = mapped_column(String(8))
    status: Mapped[str] = mapped_column(String(16), default="active")
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    score: Mapped[float | None] = mapped_column(Float)
    max_score: Mapped[float | None] = mapped_column(Float)
    passed: Mapped[bool | None] = mapped_column(Boolean)
    report_json: Mapped[str | None] = mapped_column(Text)


class TrainingTurn(Base):
    """One message of a session, in order; `engine` says who voiced a client turn (scripted or llm)."""

    __tablename__ = "roleplay_turns"
    __table_args__ = (UniqueConstraint("session_id", "position"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    session_id: Mapped[str] = mapped_column(ForeignKey("roleplay_sessions.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    role: Mapped[str] = mapped_column(String(16))
    text: Mapped[str] = mapped_column(Text)
    engine: Mapped[str | None] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class CriterionResult(Base):
    """A session's score on one rubric criterion."""

    __tablename__ = "roleplay_criterion_scores"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    session_id: Mapped[str] = mapped_column(ForeignKey("roleplay_sessions.id", ondelete="CASCADE"), index=True)
    criterion: Mapped[str] = mapped_column(String(32), index=True)
    score: Mapped[float] = mapped_column(Float)
    max: Mapped[float] = mapped_column(Float)
    passed: Mapped[bool] = mapped_column(Boolean)


class TrainingViolation(Base):
    """A violation found when a session was scored (guard rules and role-play rules)."""

    __tablename__ = "roleplay_violations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    session_id: Mapped[str] = mapped_column(ForeignKey("roleplay_sessions.id", ondelete="CASCADE"), index=True)
    rule: Mapped[str] = mapped_column(String(64), index=True)
    critical: Mapped[bool] = mapped_column(Boolean)
    quote: Mapped[str | None] = mapped_column(Text)
    turn: Mapped[int | None] = mapped_column(Integer)
