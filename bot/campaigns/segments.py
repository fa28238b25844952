"""Rule-based segments read from YAML (campaigns.segments_file), evaluated as numpy masks."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import numpy as np
import numpy.typing as npt
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from bot.campaigns.labels import Label
from bot.errors import ConfigError

_TAG_SPLIT = re.compile(r"[;|,]")


class Conditions(BaseModel):
    """All given conditions must hold; an empty `when` matches everyone."""

    model_config = ConfigDict(extra="forbid")

    payroll: bool | None = None
    aum_band_in: list[str] | None = None
    risk_level_in: list[str] | None = None
    language_in: list[str] | None = None
    tags_any: list[str] | None = None
    dormant_days_at_least: int | None = None
    dormant_days_at_most: int | None = None


class Segment(BaseModel):
    """One segment: who is in it, when they may be called, their boost and script."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=r"^[a-z0-9_]{1,64}$")
    label: dict[str, str] = Field(default_factory=dict)
    description: str | None = None
    when: Conditions = Field(default_factory=Conditions)
    call_days_after_payday: int | None = Field(default=None, ge=0, le=27)
    priority_boost: float = 0.0
    script: str | None = None


class Factor(BaseModel):
    """A low-cardinality text column as integer codes into its distinct values (like pandas.factorize)."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    codes: npt.NDArray[np.int32]
    values: list[str]

    @classmethod
    def of(cls, column: list[str]) -> Factor:
        index: dict[str, int] = {}
        codes = np.fromiter((index.setdefault(v, len(index)) for v in column), dtype=np.int32, count=len(column))
        return cls(codes=codes, values=list(index))

    def isin(self, predicate: Callable[[str], bool]) -> npt.NDArray[np.bool_]:
        """Evaluate `predicate` once per distinct value, then broadcast to the rows."""
        hits = np.array([predicate(v) for v in self.values], dtype=bool)
        return hits[self.codes] if self.values else np.zeros(len(self.codes), dtype=bool)


class SegmentColumns(BaseModel):
    """The columns segment rules read, one element per client."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    payroll_day: npt.NDArray[np.int16]
    aum_band: Factor
    risk_level: Factor
    language: Factor
    tags: Factor
    dormant_days: npt.NDArray[np.int32]


def load_segments(path: Path) -> list[Segment]:
    """Read and validate the segments file; a bad file fails naming the segment and field."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"campaigns.segments_file {path}: {exc}") from exc
    raw = data.get("segments") if isinstance(data, dict) else None
    if not isinstance(raw, list) or not raw:
        raise ConfigError(f"campaigns.segments_file {path}: expected a non-empty list under 'segments:'")
    segments = []
    for position, item in enumerate(raw, start=1):
        try:
            segments.append(Segment.model_validate(item))
        except ValidationError as exc:
            raise ConfigError(f"campaigns.segments_file {path}, segment {position}: {exc}") from exc
    ids = [s.id for s in segments]
    if len(set(ids)) != len(ids):
        raise ConfigError(f"campaigns.segments_file {path}: segment ids must be unique ({ids})")
    return segments


def labels_of(segments: list[Segment]) -> dict[str, Label]:
    """Each segment's label (Chinese, English); the id stands in for a missing language."""
    return {s.id: Label(id=s.id, zh=s.label.get("zh", s.id), en=s.label.get("en", s.id)) for s in segments}


def segment_labels(path: Path) -> dict[str, Label]:
    """Labels of the segments in `path`; {} when the file cannot be read (ids are shown instead)."""
    try:
        return labels_of(load_segments(path))
    except ConfigError:
        return {}


def _has_tag(wanted: list[str]) -> Callable[[str], bool]:
    want = set(wanted)
    return lambda text: bool(want & {t.strip() for t in _TAG_SPLIT.split(text)})


def mask(conditions: Conditions, cols: SegmentColumns) -> npt.NDArray[np.bool_]:
    """Which clients satisfy every condition."""
    result = np.ones(len(cols.payroll_day), dtype=bool)
    if conditions.payroll is not None:
        result &= (cols.payroll_day > 0) == conditions.payroll
    if conditions.aum_band_in is not None:
        result &= cols.aum_band.isin(set(conditions.aum_band_in).__contains__)
    if conditions.risk_level_in is not None:
        result &= cols.risk_level.isin(set(conditions.risk_level_in).__contains__)
    if conditions.language_in is not None:
        result &= cols.language.isin(set(conditions.language_in).__contains__)
    if conditions.tags_any is not None:
        result &= cols.tags.isin(_has_tag(conditions.tags_any))
    if conditions.dormant_days_at_least is not None:
        result &= cols.dormant_days >= conditions.dormant_days_at_least
    if conditions.dormant_days_at_most is not None:
        result &= cols.dormant_days <= conditions.dormant_days_at_most
    return result


def assign_segments(segments: list[Segment], cols: SegmentColumns) -> npt.NDArray[np.int16]:
    """Index of the first matching segment per client; -1 when none matches."""
    out = np.full(len(cols.payroll_day), -1, dtype=np.int16)
    for index, segment in enumerate(segments):
        hit = (out == -1) & mask(segment.when, cols)
        out[hit] = index
    return out
