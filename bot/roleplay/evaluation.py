"""Measure the scorer on labelled transcripts: agreement per criterion, dev and holdout apart.

A labels file (tests/data/heldout/roleplay_labels.yml, tests/data/roleplay_dev2/labels.yml) gives each
transcript's persona, split, whether it is clean (no forbidden wording), and a pass/fail verdict per
rubric criterion. A held-out transcript is reported as figures only: which ones disagree is listed for
the dev split alone, so nobody tunes the scorer on a held-out conversation; with ``splits=("dev",)``
held-out transcripts are not even scored.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError

from bot.errors import InputError
from bot.roleplay.rubric import CRITERIA
from bot.roleplay.schemas import Report, TranscriptTurn
from bot.roleplay.service import TrainingService
from bot.roleplay.transcripts import read_transcript
from bot.settings import REPO_ROOT

LABELS_FILE = REPO_ROOT / "tests" / "data" / "heldout" / "roleplay_labels.yml"
#: The held-out set (dev and holdout splits) and a development set by another author (all dev).
LABELS_FILES = (LABELS_FILE, REPO_ROOT / "tests" / "data" / "roleplay_dev2" / "labels.yml")
SPLITS = ("dev", "holdout")


class Labelled(BaseModel):
    """One labelled transcript."""

    model_config = ConfigDict(extra="ignore")

    id: str
    file: str
    persona: str | None = None
    split: Literal["dev", "holdout"]
    clean: bool
    verdicts: dict[str, Literal["pass", "fail"]]


def load_labels(path: Path = LABELS_FILE) -> list[Labelled]:
    """The labels, validated; a bad file is an InputError naming the entry at fault."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or []
        return [Labelled.model_validate(item) for item in raw]
    except (OSError, yaml.YAMLError, ValidationError) as exc:
        raise InputError(f"role-play labels {path}: {exc}") from exc


def transcript(label: Labelled, labels_path: Path) -> list[TranscriptTurn]:
    """The transcript a label points at (relative to the labels file)."""
    try:
        return read_transcript(str(labels_path.parent / label.file))
    except (OSError, ValueError) as exc:
        raise InputError(f"role-play transcript {label.file}: {exc}") from exc


def agreement(scored: list[tuple[Labelled, Report]], *, with_errors: bool) -> dict[str, Any]:
    """Agreement of reports with labels over one split, per criterion and overall."""
    per: dict[str, list[int]] = {c: [0, 0] for c in CRITERIA}
    clean_failing: list[str] = []
    disagreements: list[dict[str, str]] = []
    for label, report in scored:
        for criterion, verdict in label.verdicts.items():
            got = "pass" if report.criteria[criterion].passed else "fail"
            per[criterion][1] += 1
            per[criterion][0] += got == verdict
            if got != verdict:
                disagreements.append({"id": label.id, "criterion": criterion, "label": verdict, "got": got})
        if label.clean and not report.criteria["compliance"].passed:
            clean_failing.append(label.id)
    agree = sum(a for a, _ in per.values())
    total = sum(n for _, n in per.values())
    out: dict[str, Any] = {
        "transcripts": len(scored),
        "verdicts": total,
        "agreement": round(agree / total, 3) if total else 1.0,
        "per_criterion": {c: round(a / n, 3) for c, (a, n) in per.items() if n},
        "clean_failing_compliance": len(clean_failing),
    }
    if with_errors:
        out["disagreements"] = disagreements
        out["clean_failing_ids"] = clean_failing
    return out


async def evaluate(
    service: TrainingService,
    labels_path: Path = LABELS_FILE,
    *,
    dev_errors: bool = False,
    splits: Sequence[str] = SPLITS,
) -> dict[str, Any]:
    """Score the labelled transcripts of ``splits`` (rules only) and report agreement per split present."""
    labels = [label for label in load_labels(labels_path) if label.split in splits]
    scored: dict[str, list[tuple[Labelled, Report]]] = {split: [] for split in splits}
    for label in labels:
        report = await service.score(transcript(label, labels_path), persona_id=label.persona)
        scored[label.split].append((label, report))
    return {split: agreement(rows, with_errors=dev_errors and split == "dev") for split, rows in scored.items() if rows}


async def report(
    service: TrainingService,
    paths: Sequence[Path] = LABELS_FILES,
    *,
    dev_errors: bool = False,
    splits: Sequence[str] = SPLITS,
) -> dict[str, Any]:
    """``evaluate`` for every labels file, keyed by its path (relative to the repository)."""
    out: dict[str, Any] = {}
    for path in paths:
        name = path.relative_to(REPO_ROOT).as_posix() if path.is_relative_to(REPO_ROOT) else str(path)
        out[name] = await evaluate(service, path, dev_errors=dev_errors, splits=splits)
    return out
