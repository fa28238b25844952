"""Measure the guard on labelled sets: recall on violations, false-positive rate on compliant text.

Labels judge forbidden claims, suitability and abuse of the risk assessment, so items are checked
with ``require_disclosures=False``. Each set's own catalogue is passed as ``products`` and each
item's ``client`` (if any) as the client's risk level.

Held-out items are for reporting only: ``report`` gives their figures (overall and per kind) and
lists the wrong items of the dev split alone, so nobody tunes rules on a held-out sentence; with
``splits=("dev",)`` held-out items are not even checked (a tuning loop never sees their figures).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, TypedDict

import yaml

from bot.compliance.models import ProductRef
from bot.compliance.service import check
from bot.settings import REPO_ROOT

#: The project's own labelled sentences, the independently written held-out set (dev and holdout
#: splits) and two development sets from other banks and authors (all dev: generalisation checks).
LABELLED_SETS = (
    REPO_ROOT / "tests" / "data" / "compliance_labelled.yml",
    REPO_ROOT / "tests" / "data" / "heldout" / "compliance_sentences.yml",
    REPO_ROOT / "tests" / "data" / "compliance_dev2.yml",
    REPO_ROOT / "tests" / "data" / "compliance_dev3.yml",
)
SPLITS = ("dev", "holdout")


class RuleCounts(TypedDict):
    """Per rule: items labelled with it, of those how many got it, and unlabelled items that got it."""

    expected: int
    caught: int
    extra: int


class KindCounts(TypedDict):
    """Per kind of item (certainty, warning, ...): how many, and how many the guard judged right."""

    items: int
    violation: bool
    right: int
    rate: float


class Evaluation(TypedDict):
    """Figures for one run over (a split of) the labelled set."""

    split: str | None
    items: int
    violations: int
    compliant: int
    tp: int
    fn: int
    fp: int
    tn: int
    recall: float
    fpr: float
    precision: float
    per_rule: dict[str, RuleCounts]
    per_kind: dict[str, KindCounts]
    misses: list[dict[str, Any]]
    false_positives: list[dict[str, Any]]
    rule_mismatches: list[dict[str, Any]]


def load_labelled(labelled_path: str | Path) -> tuple[list[ProductRef], list[dict[str, Any]]]:
    """The catalogue and the items of a labelled YAML file."""
    data = yaml.safe_load(Path(labelled_path).read_text(encoding="utf-8"))
    catalogue = [ProductRef.model_validate(p) for p in data.get("catalogue", [])]
    return catalogue, list(data["items"])


def evaluate(labelled_path: str | Path, *, split: str | None = None) -> Evaluation:
    """Recall, FPR, precision, per-rule and per-kind counts and the wrong items; ``split`` filters."""
    catalogue, items = load_labelled(labelled_path)
    if split is not None:
        items = [i for i in items if i.get("split", "dev") == split]
    tp = fn = fp = tn = 0
    per_rule: dict[str, RuleCounts] = {}
    per_kind: dict[str, KindCounts] = {}
    misses: list[dict[str, Any]] = []
    false_positives: list[dict[str, Any]] = []
    mismatches: list[dict[str, Any]] = []
    for item in items:
        result = check(
            item["text"], client_risk_level=item.get("client"), products=catalogue, require_disclosures=False
        )
        got = sorted({v.rule for v in result.violations})
        expected = sorted(set(item.get("rules") or []))
        record = {"text": item["text"], "kind": item.get("kind"), "expected": expected, "got": got}
        right = result.ok != bool(item["violation"])
        if item["violation"]:
            if result.ok:
                fn += 1
                misses.append(record)
            else:
                tp += 1
                if not set(expected) <= set(got):
                    mismatches.append(record)
        elif result.ok:
            tn += 1
        else:
            fp += 1
            false_positives.append(record)
        for rule in set(expected) | set(got):
            counts = per_rule.setdefault(rule, {"expected": 0, "caught": 0, "extra": 0})
            if rule in expected:
                counts["expected"] += 1
                counts["caught"] += rule in got
            else:
                counts["extra"] += 1
        if item.get("kind"):
            kind = per_kind.setdefault(
                item["kind"], {"items": 0, "violation": bool(item["violation"]), "right": 0, "rate": 0.0}
            )
            kind["items"] += 1
            kind["right"] += right
            kind["rate"] = round(kind["right"] / kind["items"], 3)
    return {
        "split": split,
        "items": len(items),
        "violations": tp + fn,
        "compliant": fp + tn,
        "tp": tp,
        "fn": fn,
        "fp": fp,
        "tn": tn,
        "recall": tp / (tp + fn) if tp + fn else 1.0,
        "fpr": fp / (fp + tn) if fp + tn else 0.0,
        "precision": tp / (tp + fp) if tp + fp else 1.0,
        "per_rule": dict(sorted(per_rule.items())),
        "per_kind": dict(sorted(per_kind.items())),
        "misses": misses,
        "false_positives": false_positives,
        "rule_mismatches": mismatches,
    }


_LISTS = ("misses", "false_positives", "rule_mismatches")


def figures(evaluation: Evaluation, *, with_errors: bool = False) -> dict[str, Any]:
    """The numbers of an evaluation, rounded; the wrong items only when asked (dev data only)."""
    out: dict[str, Any] = {
        key: round(value, 3) if isinstance(value, float) else value
        for key, value in evaluation.items()
        if key not in _LISTS and not (key == "per_kind" and not value)
    }
    if with_errors:
        out.update({key: evaluation[key] for key in _LISTS})  # type: ignore[literal-required]
    return out


def report(
    paths: Sequence[Path] = LABELLED_SETS, *, dev_errors: bool = False, splits: Sequence[str] = SPLITS
) -> dict[str, Any]:
    """Figures of every labelled set, one column per split the set has, per kind where items have one.

    ``dev_errors`` adds the dev split's wrong items; held-out items are never listed, and with
    ``splits=("dev",)`` never checked.
    """
    out: dict[str, Any] = {}
    for path in paths:
        name = path.relative_to(REPO_ROOT).as_posix() if path.is_relative_to(REPO_ROOT) else str(path)
        present = {item.get("split", "dev") for item in load_labelled(path)[1]}
        out[name] = {
            split: figures(evaluate(path, split=split), with_errors=dev_errors and split == "dev")
            for split in splits
            if split in present
        }
    return out


def table(result: dict[str, Any]) -> str:
    """The headline figures of ``report`` side by side, one column per set and split."""
    columns = [(name, split, fig) for name, splits in result.items() for split, fig in splits.items()]
    heads = [f"{Path(name).stem}:{split}" for name, split, _ in columns]
    width = max([12, *(len(h) for h in heads)]) + 2
    lines = ["".ljust(10) + "".join(h.rjust(width) for h in heads)]
    for key in ("items", "recall", "fpr", "precision"):
        lines.append(key.ljust(10) + "".join(str(fig[key]).rjust(width) for _, _, fig in columns))
    return "\n".join(lines)
