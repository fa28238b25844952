"""Role-play persistence: plain synchronous functions taking a SQLAlchemy session.

Async callers run them in a worker thread (see service.py). Reports are stored whole as JSON for
replay and, split into per-criterion and per-violation rows, for the team view's aggregates.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Integer, cast, func, select
from sqlalchemy.orm import Session

from bot.db import utcnow
from bot.errors import Conflict, NotFound
from bot.roleplay.models import CriterionResult, TrainingSession, TrainingTurn, TrainingViolation
from bot.roleplay.schemas import AdvisorAverage, Report, Role, SessionSummary, ViolationCount


class UnknownSession(NotFound):
    """No training session with that id."""


class SessionEnded(Conflict):
    """The session is already scored; start a new one."""


@dataclass(frozen=True)
class StoredTurn:
    """A turn as read back from the database."""

    position: int
    role: Role
    text: str
    engine: str | None


def create_session(
    db: Session, *, session_id: str, advisor_id: str, persona_id: str, seed: int, language: str
) -> TrainingSession:
    """A new active session row."""
    row = TrainingSession(
        id=session_id,
        advisor_id=advisor_id,
        persona_id=persona_id,
        seed=seed,
        language=language,
        status="active",
        started_at=utcnow(),
    )
    db.add(row)
    return row


def get_session(db: Session, *, session_id: str) -> TrainingSession:
    """The session, or UnknownSession."""
    row = db.get(TrainingSession, session_id)
    if row is None:
        raise UnknownSession(f"unknown training session {session_id!r}")
    return row


def active_session(db: Session, *, session_id: str) -> TrainingSession:
    """The session if it is still active; SessionEnded otherwise."""
    row = get_session(db, session_id=session_id)
    if row.status != "active":
        raise SessionEnded(f"training session {session_id!r} has ended; start a new one")
    return row


def turns(db: Session, *, session_id: str) -> list[StoredTurn]:
    """The session's turns in order."""
    rows = db.scalars(select(TrainingTurn).where(TrainingTurn.session_id == session_id).order_by(TrainingTurn.position))
    return [StoredTurn(r.position, r.role, r.text, r.engine) for r in rows]  # type: ignore[arg-type]


def add_turns(db: Session, *, session_id: str, items: Sequence[tuple[Role, str, str | None]]) -> None:
    """Append (role, text, engine) turns after the last stored position."""
    last = db.scalar(select(func.max(TrainingTurn.position)).where(TrainingTurn.session_id == session_id))
    position = -1 if last is None else last
    for role, text, engine in items:
        position += 1
        db.add(TrainingTurn(session_id=session_id, position=position, role=role, text=text, engine=engine))


def save_report(db: Session, *, session_id: str, report: Report) -> None:
    """Close the session with its report, its criterion rows and its violation rows."""
    row = active_session(db, session_id=session_id)
    row.status = "ended"
    row.ended_at = utcnow()
    row.score = report.score
    row.max_score = report.max_score
    row.passed = report.passed
    row.report_json = report.model_dump_json()
    for criterion in report.criteria.values():
        db.add(
            CriterionResult(
                session_id=session_id,
                criterion=criterion.id,
                score=criterion.score,
                max=criterion.max,
                passed=criterion.passed,
            )
        )
    for finding in report.violations:
        db.add(
            TrainingViolation(
                session_id=session_id,
                rule=finding.rule,
                critical=finding.critical,
                quote=finding.quote,
                turn=finding.turn,
            )
        )


def history(db: Session, *, advisor_id: str, limit: int = 100) -> list[SessionSummary]:
    """An advisor's sessions, newest first."""
    rows = db.scalars(
        select(TrainingSession)
        .where(TrainingSession.advisor_id == advisor_id)
        .order_by(TrainingSession.started_at.desc(), TrainingSession.id)
        .limit(limit)
    )
    return [
        SessionSummary(
            session_id=r.id,
            persona_id=r.persona_id,
            status=r.status,  # type: ignore[arg-type]
            started_at=r.started_at,
            score=r.score,
            max_score=r.max_score,
            passed=r.passed,
        )
        for r in rows
    ]


@dataclass(frozen=True)
class CriterionRow:
    """Aggregate of one criterion over the selected sessions."""

    criterion: str
    average: float
    max: float
    pass_rate: float
    sessions: int


def team_aggregates(
    db: Session, *, advisor_ids: Sequence[str] = (), top: int = 5
) -> tuple[int, list[AdvisorAverage], list[CriterionRow], list[ViolationCount]]:
    """(ended sessions, per-advisor averages, per-criterion averages, most frequent violations)."""
    ended = select(TrainingSession.id).where(TrainingSession.status == "ended")
    if advisor_ids:
        ended = ended.where(TrainingSession.advisor_id.in_(advisor_ids))
    ids = ended.scalar_subquery()
    count = db.scalar(select(func.count()).select_from(TrainingSession).where(TrainingSession.id.in_(ids))) or 0
    advisors = [
        AdvisorAverage(
            advisor_id=advisor_id,
            sessions=n,
            average_percent=round(float(pct or 0.0), 1),
            passed=int(passed or 0),
        )
        for advisor_id, n, pct, passed in db.execute(
            select(
                TrainingSession.advisor_id,
                func.count(),
                func.avg(100.0 * TrainingSession.score / TrainingSession.max_score),
                func.sum(cast(TrainingSession.passed, Integer)),
            )
            .where(TrainingSession.id.in_(ids))
            .group_by(TrainingSession.advisor_id)
            .order_by(TrainingSession.advisor_id)
        )
    ]
    criteria = [
        CriterionRow(name, round(float(avg), 1), float(mx), round(float(rate), 3), int(n))
        for name, avg, mx, rate, n in db.execute(
            select(
                CriterionResult.criterion,
                func.avg(CriterionResult.score),
                func.max(CriterionResult.max),
                func.avg(cast(CriterionResult.passed, Integer)),
                func.count(),
            )
            .where(CriterionResult.session_id.in_(ids))
            .group_by(CriterionResult.criterion)
        )
    ]
    violations = [
        ViolationCount(rule=rule, critical=bool(critical), count=int(n), example=example)
        for rule, critical, n, example in db.execute(
            select(
                TrainingViolation.rule,
                func.max(cast(TrainingViolation.critical, Integer)),
                func.count(),
                func.min(TrainingViolation.quote),
            )
            .where(TrainingViolation.session_id.in_(ids))
            .group_by(TrainingViolation.rule)
            .order_by(func.count().desc(), TrainingViolation.rule)
            .limit(top)
        )
    ]
    return count, advisors, criteria, violations
