"""Rasa's own story tests and the NLU bar, run inside `make test` against the trained model."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
import yaml

from bot.runtime.rasa_process import model_path, rasa_env, rasa_executable, train
from bot.settings import REPO_ROOT, load_settings

pytestmark = pytest.mark.e2e


def test_story_tests_pass(tmp_path: Path) -> None:
    settings = load_settings()
    model, _ = train(settings)
    project = settings.rasa.project_dir
    cmd = [
        str(rasa_executable(settings)), "test", "core",
        "--stories", str(project / "tests"),
        "--model", str(model),
        "--out", str(tmp_path),
        "--fail-on-prediction-errors",
    ]  # fmt: skip
    done = subprocess.run(cmd, cwd=project, env=rasa_env(settings), capture_output=True, text=True, check=False)
    failed = tmp_path / "failed_test_stories.yml"
    failures = failed.read_text(encoding="utf-8") if failed.exists() else ""
    assert done.returncode == 0, failures or done.stderr[-3000:]
    assert "story:" not in failures
    stories = yaml.safe_load((project / "tests" / "test_stories.yml").read_text(encoding="utf-8"))["stories"]
    assert len(stories) >= 6


def test_nlu_heldout_accuracy_meets_bar() -> None:
    settings = load_settings()
    assert model_path(settings).exists() or train(settings)
    done = subprocess.run(
        [str(REPO_ROOT / ".venv" / "bin" / "advisor"), "nlu", "eval", "tests/data/nlu_heldout.yml", "--json"],
        cwd=REPO_ROOT, capture_output=True, text=True, check=True,
    )  # fmt: skip
    result = json.loads(done.stdout)
    print(f"held-out intent accuracy: {result['accuracy']}")
    assert result["accuracy"] >= 0.90
    assert len(result["intents"]) >= 20
