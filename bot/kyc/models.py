"""The questionnaire as typed data, loaded from questionnaire.yml."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import yaml
from pydantic import BaseModel

_FILE = Path(__file__).with_name("questionnaire.yml")
LEVELS = ("C1", "C2", "C3", "C4", "C5")


class Option(BaseModel):
    points: int
    zh: list[str]
    en: list[str]
    cap: str | None = None


class Question(BaseModel):
    slot: str
    zh: str
    en: str
    options: list[Option]
    numeric_ranges: list[tuple[int, int]] | None = None


class Questionnaire(BaseModel):
    questions: list[Question]

    def question(self, slot: str) -> Question:
        return next(q for q in self.questions if q.slot == slot)

    @property
    def slots(self) -> list[str]:
        return [q.slot for q in self.questions]


@cache
def questionnaire() -> Questionnaire:
    return Questionnaire.model_validate(yaml.safe_load(_FILE.read_text(encoding="utf-8")))
