"""Names for the campaign domain's stored values (labels.yml, outcomes.yml, the segments file).

One place, so the CLI, the API and the console say the same thing: the label first (Chinese, then
English), the id only as secondary text.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import yaml
from pydantic import BaseModel, Field

from bot.campaigns.models import CONTROL

_HERE = Path(__file__).parent
Sides = dict[str, list[str]]  # "treatment" / "control" -> the outcome sources counted on that side


class Label(BaseModel):
    """A bilingual name; `id` is the stored value it names."""

    id: str
    zh: str
    en: str

    def text(self) -> str:
        """ "中文 English" (or just one when both are the same)."""
        return self.zh if self.zh == self.en else f"{self.zh} {self.en}"


class OutcomeSpec(BaseModel):
    """outcomes.yml: an outcome's label, which sources each side of the comparison counts, and whether the
    board always shows it next to the outcome chosen (e.g. the WeCom add rate next to conversion)."""

    label: dict[str, str] = Field(default_factory=dict)
    sources: Sides = Field(default_factory=lambda: {"treatment": ["imported"], "control": ["imported"]})
    alongside: bool = False


@cache
def _labels() -> dict[str, dict[str, dict[str, str]]]:
    data: dict[str, dict[str, dict[str, str]]] = yaml.safe_load((_HERE / "labels.yml").read_text(encoding="utf-8"))
    return data


@cache
def outcome_specs() -> dict[str, OutcomeSpec]:
    raw = yaml.safe_load((_HERE / "outcomes.yml").read_text(encoding="utf-8")) or {}
    return {name: OutcomeSpec.model_validate(spec or {}) for name, spec in (raw.get("outcomes") or {}).items()}


def outcome_spec(name: str) -> OutcomeSpec:
    return outcome_specs().get(name) or OutcomeSpec()


def label(kind: str, key: str) -> Label:
    """The label of `key` in labels.yml's `kind` section (statuses, arms, verdicts, sources, reasons)."""
    found = _labels().get(kind, {}).get(key)
    if found is None:
        return Label(id=key, zh=key, en=key)
    return Label(id=key, zh=found.get("zh", key), en=found.get("en", key))


def arm_label(arm: str) -> Label:
    """Control and treatment by name; a script variant (A, B...) is its own name."""
    return label("arms", arm) if arm in (CONTROL, "treatment", "treatment_all") else Label(id=arm, zh=arm, en=arm)


def segment_label(segment: str | None, labels: dict[str, Label]) -> Label | None:
    """A segment's label from the campaign's labels (its id when unlabelled); None for "all segments"."""
    if segment is None:
        return None
    return labels.get(segment) or Label(id=segment, zh=segment, en=segment)


def outcome_label(name: str) -> Label:
    names = outcome_spec(name).label
    return Label(id=name, zh=names.get("zh", name), en=names.get("en", name))


def reason_text(reason: str) -> str:
    """A stored reason ("code" or "code: detail") as "中文 English (detail)"."""
    code, _, detail = reason.partition(":")
    named = label("reasons", code.strip()).text()
    return f"{named} ({detail.strip()})" if detail.strip() else named
