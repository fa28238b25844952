"""`advisor compliance evaluate`: both labelled sets, dev and holdout apart, per kind; held-out items never listed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from bot.compliance import cli as compliance_cli
from bot.compliance.evaluation import LABELLED_SETS, evaluate, report

ITEMS = [
    {"text": "这款理财保本保息。", "violation": True, "kind": "guarantee", "split": "dev"},
    {"text": "这款理财不保本。", "violation": False, "kind": "negation", "split": "dev"},
    {"text": "您好，欢迎光临。", "violation": True, "kind": "guarantee", "split": "dev"},  # mislabelled on purpose
    {"text": "稳赚不赔。", "violation": True, "kind": "guarantee", "split": "holdout"},
    {"text": "理财非存款。", "violation": False, "kind": "negation", "split": "holdout"},
]


@pytest.fixture
def labelled(tmp_path: Path) -> Path:
    path = tmp_path / "set.yml"
    path.write_text(yaml.safe_dump({"catalogue": [], "items": ITEMS}, allow_unicode=True), encoding="utf-8")
    return path


def test_figures_per_split_and_kind(labelled: Path) -> None:
    dev = evaluate(labelled, split="dev")
    assert (dev["tp"], dev["fn"], dev["fp"], dev["tn"]) == (1, 1, 0, 1)
    assert dev["recall"] == 0.5 and dev["fpr"] == 0.0
    assert dev["per_kind"]["guarantee"] == {"items": 2, "violation": True, "right": 1, "rate": 0.5}
    assert dev["misses"] == [{"text": "您好，欢迎光临。", "kind": "guarantee", "expected": [], "got": []}]


def test_report_never_lists_held_out_items(labelled: Path) -> None:
    out = report([labelled], dev_errors=True)
    [figures] = out.values()
    assert set(figures) == {"dev", "holdout"}
    assert figures["dev"]["misses"] and "misses" not in figures["holdout"]
    assert figures["holdout"]["recall"] == 1.0 and figures["holdout"]["items"] == 2
    assert "misses" not in report([labelled])[next(iter(out))]["dev"]


def test_cli_reports_both_project_sets_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    result = CliRunner().invoke(compliance_cli.compliance_app, ["evaluate"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert len(payload) == len(LABELLED_SETS) == 2
    held_out = payload["tests/data/heldout/compliance_sentences.yml"]
    assert held_out["holdout"]["per_kind"] and "false_positives" not in held_out["holdout"]
