"""Batch questions for the content team: `advisor ask --batch` and `advisor kb evaluate` (and the benchmark).

One service, one event loop, every question in turn: the models load once, so hundreds of questions
take seconds. A malformed line is reported with its line number and never stops the others.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field, ValidationError, field_validator

from bot.errors import InputError
from bot.knowledge.models import Answer, Channel
from bot.knowledge.service import KnowledgeService
from bot.language import Language, detect_language


class BatchQuestion(BaseModel):
    """One line of a batch file: the question, and optionally its channel, language and expected sources."""

    q: str = Field(min_length=1, max_length=2000)
    channel: Channel = "web"
    language: Language | None = None
    risk_level: str | None = None
    expect: list[str] | None = None  # `kb evaluate`: right source ids; [] = should be declined

    @field_validator("q")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("empty question")
        return value


class BadLine(BaseModel):
    """A line that could not be read, with why."""

    line: int
    error: str


def read_batch(path: Path) -> Iterator[tuple[int, BatchQuestion | BadLine]]:
    """(line number, question or problem) for every non-blank line of a JSONL file."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read {path}: {exc}") from exc
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            yield number, BatchQuestion.model_validate(json.loads(line))
        except json.JSONDecodeError as exc:
            yield number, BadLine(line=number, error=f"not JSON: {exc.msg}")
        except ValidationError as exc:
            problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'line'}: {e['msg']}" for e in exc.errors())
            yield number, BadLine(line=number, error=problems)


def language_of(item: BatchQuestion, default: Language) -> Language:
    return item.language or detect_language(item.q) or default


async def answer_all(
    service: KnowledgeService, items: Iterable[tuple[int, BatchQuestion | BadLine]], default: Language
) -> list[dict[str, Any]]:
    """One JSON object per line: the `advisor ask --json` answer, or {"line", "error"}."""
    out: list[dict[str, Any]] = []
    for _, item in items:
        if isinstance(item, BadLine):
            out.append(item.model_dump())
            continue
        answer = await service.answer(
            item.q, language=language_of(item, default), channel=item.channel, risk_level=item.risk_level
        )
        out.append(answer.model_dump(mode="json"))
    return out


class Outcome(BaseModel):
    """What happened to one evaluated question."""

    line: int
    q: str
    expect: list[str]
    answered: bool  # the reply is grounded (cited approved content)
    cited: str | None  # the reply's first citation
    citations: list[str] = Field(default_factory=list)
    evidence: str | None  # the gate's first evidence hit (what retrieval says to cite)
    rank: int | None  # 1-based rank of the first expected source among the ranked sources
    confidence: float
    ranked: list[str]

    @property
    def in_scope(self) -> bool:
        return bool(self.expect)

    @property
    def correct(self) -> bool:
        return self.answered and self.cited in self.expect

    @property
    def gate_correct(self) -> bool:
        return self.evidence is not None and self.evidence in self.expect


class Evaluation(BaseModel):
    """`advisor kb evaluate`: answered-correct, declined, hit@1/hit@3, out-of-scope declined, the misses."""

    outcomes: list[Outcome] = Field(default_factory=list)
    bad_lines: list[BadLine] = Field(default_factory=list)

    def _share(self, predicate: Any, *, in_scope: bool = True) -> float:
        pool = [o for o in self.outcomes if o.in_scope == in_scope]
        return round(sum(1 for o in pool if predicate(o)) / len(pool), 3) if pool else 0.0

    def summary(self) -> dict[str, Any]:
        return {
            "questions": sum(o.in_scope for o in self.outcomes),
            "out_of_scope": sum(not o.in_scope for o in self.outcomes),
            "answered_correct": self._share(lambda o: o.correct),
            "gate_correct": self._share(lambda o: o.gate_correct),
            "answered": self._share(lambda o: o.answered),
            "declined": self._share(lambda o: not o.answered),
            "hit@1": self._share(lambda o: o.rank == 1),
            "hit@3": self._share(lambda o: o.rank is not None and o.rank <= 3),
            "out_of_scope_declined": self._share(lambda o: not o.answered, in_scope=False),
            "bad_lines": len(self.bad_lines),
        }

    def misses(self) -> list[dict[str, Any]]:
        """In-scope questions not answered with a right first citation; out-of-scope ones answered."""
        out = []
        for o in self.outcomes:
            if o.in_scope and not o.correct:
                problem = "declined" if not o.answered else "wrong citation"
            elif not o.in_scope and o.answered:
                problem = "answered out of scope"
            else:
                continue
            out.append(
                {
                    "line": o.line,
                    "q": o.q,
                    "problem": problem,
                    "cited": o.cited,
                    "expect": o.expect,
                    "rank": o.rank,
                    "confidence": round(o.confidence, 3),
                    "ranked": o.ranked[:3],
                }
            )
        return out


async def evaluate(
    service: KnowledgeService, items: Iterable[tuple[int, BatchQuestion | BadLine]], default: Language
) -> Evaluation:
    """Answer each question as the bot would, and compare with its expected sources."""
    report = Evaluation()
    for number, item in items:
        if isinstance(item, BadLine):
            report.bad_lines.append(item)
            continue
        if item.expect is None:
            report.bad_lines.append(BadLine(line=number, error="expect: missing (a list of ids; [] = decline)"))
            continue
        language = language_of(item, default)
        retrieval = await asyncio.to_thread(
            service.retrieve, item.q, language=language, channel=item.channel, risk_level=item.risk_level
        )
        answer: Answer = await service.answer(
            item.q, language=language, channel=item.channel, risk_level=item.risk_level
        )
        ranked = [h.id for h in retrieval.ranked]
        report.outcomes.append(
            Outcome(
                line=number,
                q=item.q,
                expect=item.expect,
                answered=answer.grounded,
                cited=answer.citations[0].id if answer.citations else None,
                citations=[c.id for c in answer.citations],
                evidence=retrieval.hits[0].id if retrieval.answerable and retrieval.hits else None,
                rank=next((i for i, cid in enumerate(ranked, start=1) if cid in item.expect), None),
                confidence=retrieval.confidence,
                ranked=ranked,
            )
        )
    return report
