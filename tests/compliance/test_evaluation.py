"""`advisor compliance evaluate`: both labelled sets, dev and holdout apart, per kind; held-out items never listed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from bot.compliance import cli as compliance_cli
from bot.compliance.evaluation import LABELLED_SETS, evaluate, report, table
from bot.settings import REPO_ROOT

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


def test_cli_reports_the_project_sets_by_default() -> None:
    result = CliRunner().invoke(compliance_cli.compliance_app, ["evaluate"])
    assert result.exit_code == 0, "exit code"  # the output holds held-out figures: not shown on failure
    payload = json.loads(result.stdout)
    assert list(payload) == [p.relative_to(REPO_ROOT).as_posix() for p in LABELLED_SETS]
    held_out = payload["tests/data/heldout/compliance_sentences.yml"]
    assert set(held_out) == {"dev", "holdout"}
    assert held_out["holdout"]["per_kind"] and "false_positives" not in held_out["holdout"]
    assert set(payload["tests/data/compliance_dev2.yml"]) == {"dev"}  # all dev: one column


def test_dev_only_never_checks_held_out_items(tmp_path: Path) -> None:
    # A held-out item with an impossible client level would raise if it were checked.
    items = [*ITEMS, {"text": "稳赚。", "violation": True, "client": "C9", "split": "holdout"}]
    path = tmp_path / "set.yml"
    path.write_text(yaml.safe_dump({"catalogue": [], "items": items}, allow_unicode=True), encoding="utf-8")
    with pytest.raises(ValueError, match="C9"):
        report([path])
    out = report([path], splits=("dev",), dev_errors=True)
    assert set(out[str(path)]) == {"dev"} and out[str(path)]["dev"]["items"] == 3


def test_table_puts_each_set_and_split_in_a_column(labelled: Path) -> None:
    lines = table(report([labelled])).splitlines()
    assert lines[0].split() == ["set:dev", "set:holdout"]
    assert lines[2].split() == ["recall", "0.5", "1.0"]
