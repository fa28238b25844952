"""The questionnaire as typed data, loaded from questionnaire.yml."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, Field, model_validator

_FILE = Path(__file__).with_name("questionnaire.yml")
LEVELS = ("C1", "C2", "C3", "C4", "C5")
LETTERS = "ABCD"


def option_index(value: object) -> int | None:
    """A stored answer (its option letter, "A".."D"; older answers were "0".."3") as the option's index."""
    text = str(value).strip().upper() if value is not None else ""
    if len(text) == 1 and text in LETTERS:
        return LETTERS.index(text)
    return int(text) if text.isdigit() and int(text) < len(LETTERS) else None


class Bilingual(BaseModel):
    zh: str
    en: str

    def pick(self, language: str) -> str:
        return self.en if language == "en" else self.zh


class Words(BaseModel):
    zh: list[str] = Field(default_factory=list)
    en: list[str] = Field(default_factory=list)

    def all(self) -> list[str]:
        return [*self.zh, *self.en]


class Option(BaseModel):
    points: int
    label: Bilingual
    keywords: Words = Field(default_factory=Words)
    cap: str | None = None


class Measure(BaseModel):
    """A question answered by a number: the cut points between its options (see questionnaire.yml)."""

    kind: Literal["age", "amount", "years", "percent"]
    bounds: list[float]


class Question(BaseModel):
    slot: str
    zh: str
    en: str
    options: list[Option]
    measure: Measure | None = None

    @model_validator(mode="after")
    def _four_options(self) -> Question:
        if len(self.options) != len(LETTERS):
            raise ValueError(f"{self.slot}: a question has {len(LETTERS)} options")
        if self.measure is not None and len(self.measure.bounds) != len(self.options) - 1:
            raise ValueError(f"{self.slot}: a measure needs {len(self.options) - 1} bounds")
        return self

    def text(self, language: str) -> str:
        """The question with its lettered options, as shown (the buttons carry the same labels)."""
        head = self.en if language == "en" else self.zh
        options = "  ".join(f"{LETTERS[i]}. {o.label.pick(language)}" for i, o in enumerate(self.options))
        return f"{head} {options}"


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
