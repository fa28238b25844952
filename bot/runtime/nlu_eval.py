"""`advisor nlu eval`: Rasa's own NLU evaluation, summarised as JSON."""

from __future__ import annotations

import json
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from bot.errors import DialogueUnavailable
from bot.runtime.rasa_process import rasa_env, rasa_executable
from bot.settings import Settings

_AGGREGATES = {"accuracy", "macro avg", "weighted avg", "micro avg"}


def summarise(report: dict[str, Any]) -> dict[str, Any]:
    """Reduce Rasa's intent_report.json to overall accuracy and per-intent precision/recall/f1."""
    intents = {
        name: {
            "precision": round(float(v["precision"]), 4),
            "recall": round(float(v["recall"]), 4),
            "f1": round(float(v["f1-score"]), 4),
            "support": int(v["support"]),
        }
        for name, v in report.items()
        if name not in _AGGREGATES and isinstance(v, dict)
    }
    return {"accuracy": round(float(report["accuracy"]), 4), "intents": intents}


def count_examples(test_file: Path) -> int:
    """How many examples a Rasa NLU YAML file holds (for the progress line); 0 if it cannot be read."""
    import yaml

    try:
        data = yaml.safe_load(test_file.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError):
        return 0
    blocks = [item.get("examples", "") for item in data.get("nlu", []) if isinstance(item, dict)]
    return sum(line.lstrip().startswith("- ") for block in blocks for line in str(block).splitlines())


def evaluate(settings: Settings, *, model: Path, test_file: Path) -> dict[str, Any]:
    """Run `rasa test nlu` on `test_file` and summarise its intent report."""
    with tempfile.TemporaryDirectory(prefix="nlu-eval-") as out:
        cmd = [
            str(rasa_executable(settings)), "test", "nlu",
            "--nlu", str(test_file.resolve()),
            "--model", str(model),
            "--out", out,
            "--no-plot",
        ]  # fmt: skip
        done = subprocess.run(
            cmd, cwd=settings.rasa.project_dir, env=rasa_env(settings), capture_output=True, check=False
        )
        report_path = Path(out) / "intent_report.json"
        if done.returncode != 0 or not report_path.exists():
            tail = done.stderr.decode(errors="replace")[-2000:]
            raise DialogueUnavailable(f"rasa test nlu failed ({done.returncode}): {tail}")
        return summarise(json.loads(report_path.read_text(encoding="utf-8")))
