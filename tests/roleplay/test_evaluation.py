"""`advisor roleplay evaluate`: agreement per criterion with labelled transcripts, dev and holdout apart."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from bot.roleplay import cli
from bot.roleplay.evaluation import LABELS_FILES, evaluate, load_labels
from bot.roleplay.service import TrainingService
from bot.settings import REPO_ROOT, Settings

CLEAN = [
    {"role": "client", "text": "你好，我想了解一下理财。"},
    {"role": "advisor", "text": "您好，在给您推荐之前，想先了解一下您的风险测评结果？"},
    {"role": "client", "text": "我是稳健型。"},
    {"role": "advisor", "text": "谢谢。这笔钱打算做什么用？多久不用？以前买过理财吗？"},
    {"role": "client", "text": "攒着，两年不用，买过理财。"},
    {"role": "advisor", "text": "可以看看季享，R2级。理财非存款、产品有风险、投资须谨慎，不保本。"},
    {"role": "advisor", "text": "感谢您的咨询，再见！"},
]
PROMISE = [
    *CLEAN[:5],
    {"role": "advisor", "text": "季享您放心，到期一分都少不了，理财非存款、产品有风险、投资须谨慎。"},
    CLEAN[6],
]
ALL_PASS = dict.fromkeys(
    ("compliance", "disclosure", "kyc", "suitability", "needs_discovery", "objection_handling", "courtesy"), "pass"
)


@pytest.fixture
def labels(tmp_path: Path) -> Path:
    for name, rows in (("clean.jsonl", CLEAN), ("promise.jsonl", PROMISE)):
        (tmp_path / name).write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows), encoding="utf-8")
    items = [
        {"id": "a", "file": "clean.jsonl", "persona": "neutral", "split": "dev", "clean": True, "verdicts": ALL_PASS},
        # Labelled as if the promise were clean: the scorer must disagree on compliance only.
        {
            "id": "b",
            "file": "promise.jsonl",
            "persona": "neutral",
            "split": "holdout",
            "clean": True,
            "verdicts": ALL_PASS,
        },
    ]
    path = tmp_path / "labels.yml"
    path.write_text(yaml.safe_dump(items, allow_unicode=True), encoding="utf-8")
    return path


async def test_agreement_per_split(rp_settings: Settings, labels: Path) -> None:
    service = TrainingService.from_settings(rp_settings, database=False)
    try:
        result = await evaluate(service, labels, dev_errors=True)
    finally:
        await service.aclose()
    assert result["dev"]["agreement"] == 1.0 and result["dev"]["disagreements"] == []
    holdout = result["holdout"]
    assert holdout["verdicts"] == 7 and holdout["per_criterion"]["compliance"] == 0.0
    assert holdout["agreement"] == round(6 / 7, 3)
    assert holdout["clean_failing_compliance"] == 1
    assert "disagreements" not in holdout and "clean_failing_ids" not in holdout


def test_cli_prints_one_entry_per_labels_file(
    monkeypatch: pytest.MonkeyPatch, rp_settings: Settings, labels: Path
) -> None:
    monkeypatch.setattr(cli, "get_settings", lambda: rp_settings)
    result = CliRunner().invoke(cli.roleplay_app, ["evaluate", str(labels), str(labels)])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert list(payload) == [str(labels)] and set(payload[str(labels)]) == {"dev", "holdout"}


def test_dev_only_never_scores_held_out_transcripts(
    monkeypatch: pytest.MonkeyPatch, rp_settings: Settings, labels: Path
) -> None:
    # The held-out transcript's file is gone: scoring it would fail.
    (labels.parent / "promise.jsonl").unlink()
    monkeypatch.setattr(cli, "get_settings", lambda: rp_settings)
    assert CliRunner().invoke(cli.roleplay_app, ["evaluate", str(labels)]).exit_code == 2
    result = CliRunner().invoke(cli.roleplay_app, ["evaluate", str(labels), "--dev-only"])
    assert result.exit_code == 0, result.output
    [figures] = json.loads(result.stdout).values()
    assert set(figures) == {"dev"} and figures["dev"]["transcripts"] == 1


def test_the_default_files_are_the_held_out_set_and_dev2() -> None:
    assert [p.relative_to(REPO_ROOT).as_posix() for p in LABELS_FILES] == [
        "tests/data/heldout/roleplay_labels.yml",
        "tests/data/roleplay_dev2/labels.yml",
    ]
    assert {label.split for label in load_labels(LABELS_FILES[1])} == {"dev"}


def test_cli_bad_labels_exit_2(monkeypatch: pytest.MonkeyPatch, rp_settings: Settings, tmp_path: Path) -> None:
    monkeypatch.setattr(cli, "get_settings", lambda: rp_settings)
    bad = tmp_path / "bad.yml"
    bad.write_text("- {id: x}\n", encoding="utf-8")
    result = CliRunner().invoke(cli.roleplay_app, ["evaluate", str(bad)])
    assert result.exit_code == 2 and "labels" in result.output
