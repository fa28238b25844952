"""The scoring rubric as typed data (rubric.yml): weights, gates, pass mark, points and evidence notes.

Kept in a data file so trainers can tune weights and wording without touching the scorer.
"""

from __future__ import annotations

from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, model_validator

from bot.errors import ConfigError

RUBRIC_FILE = Path(__file__).with_name("rubric.yml")
CRITERIA = ("compliance", "disclosure", "kyc", "suitability", "needs_discovery", "objection_handling", "courtesy")


class CriterionSpec(BaseModel):
    """One criterion's weight and names."""

    model_config = ConfigDict(extra="forbid")

    max: float
    gate: bool = False
    name: str
    name_en: str


class Rubric(BaseModel):
    """rubric.yml, validated."""

    model_config = ConfigDict(extra="forbid")

    pass_mark: float
    exaggeration_penalty: float
    performance_penalty: float
    criteria: dict[str, CriterionSpec]
    kyc_points: dict[str, float]
    courtesy_points: dict[str, float]
    notes: dict[str, str]

    @classmethod
    def load(cls, path: Path = RUBRIC_FILE) -> Rubric:
        try:
            return cls.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))
        except (OSError, yaml.YAMLError, ValueError) as exc:
            raise ConfigError(f"role-play rubric {path.name}: {exc}") from exc

    @model_validator(mode="after")
    def _complete(self) -> Rubric:
        """The scorer fills exactly these criteria, in this order."""
        if tuple(self.criteria) != CRITERIA:
            raise ValueError(f"criteria must be {', '.join(CRITERIA)} (in that order)")
        return self

    def note(self, key: str, **values: str) -> str:
        """An evidence note with its placeholders filled in."""
        return self.notes[key].format(**values)
