"""Measure the guard on a labelled set: recall on violations, false-positive rate on compliant text.

Labels judge forbidden claims and suitability only, so items are checked with
``require_disclosures=False``. The set's own catalogue is passed as ``products`` and each item's
``client`` (if any) as the client's risk level. A bench/CLI command can print the returned dict.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypedDict

import yaml

from bot.compliance.models import ProductRef
from bot.compliance.service import check


class RuleCounts(TypedDict):
    """Per rule: items labelled with it, of those how many got it, and unlabelled items that got it."""

    expected: int
    caught: int
    extra: int


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
    misses: list[dict[str, Any]]
    false_positives: list[dict[str, Any]]
    rule_mismatches: list[dict[str, Any]]


def load_labelled(labelled_path: str | Path) -> tuple[list[ProductRef], list[dict[str, Any]]]:
    """The catalogue and the items of a labelled YAML file."""
    data = yaml.safe_load(Path(labelled_path).read_text(encoding="utf-8"))
    catalogue = [ProductRef.model_validate(p) for p in data.get("catalogue", [])]
    return catalogue, list(data["items"])


def evaluate(labelled_path: str | Path, *, split: str | None = None) -> Evaluation:
    """Recall, FPR, precision, per-rule counts and the misses; ``split`` ("dev"/"holdout") filters items."""
    catalogue, items = load_labelled(labelled_path)
    if split is not None:
        items = [i for i in items if i.get("split", "dev") == split]
    tp = fn = fp = tn = 0
    per_rule: dict[str, RuleCounts] = {}
    misses: list[dict[str, Any]] = []
    false_positives: list[dict[str, Any]] = []
    mismatches: list[dict[str, Any]] = []
    for item in items:
        result = check(
            item["text"], client_risk_level=item.get("client"), products=catalogue, require_disclosures=False
        )
        got = sorted({v.rule for v in result.violations})
        expected = sorted(set(item.get("rules") or []))
        record = {"text": item["text"], "expected": expected, "got": got}
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
        "misses": misses,
        "false_positives": false_positives,
        "rule_mismatches": mismatches,
    }
