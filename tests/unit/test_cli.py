"""The `advisor` command surface: sub-commands load lazily, help is real, long steps show progress,
`make run` prints a summary and sends JSON logs to a file when a person watches."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

from pydantic import SecretStr
from typer.testing import CliRunner

from bot.cli import app
from bot.cli.lazy import LAZY, load
from bot.cli.progress import Ticker
from bot.cli.startup import summary
from bot.observability.logging import log_file
from bot.settings import REPO_ROOT, load_settings

HEAVY = {"sqlalchemy", "chromadb", "numpy", "fastapi", "pydantic_settings", "twilio", "jieba", "rich", "sklearn"}
_PROBE = """
import sys
sys.argv = {argv!r}
from bot.cli import main
try:
    main()
except SystemExit:
    pass
print("\\nLOADED=" + ",".join(sorted({{m.split(".")[0] for m in sys.modules}})))
"""


def _loaded(*argv: str) -> tuple[str, set[str]]:
    """Run `advisor ARGV` in a fresh interpreter; its output and the top-level packages it imported."""
    done = subprocess.run(
        [sys.executable, "-c", _PROBE.format(argv=["advisor", *argv])],
        cwd=REPO_ROOT, capture_output=True, text=True, check=True,
    )  # fmt: skip
    output, _, loaded = done.stdout.rpartition("\nLOADED=")
    return output, set(loaded.strip().split(","))


def test_help_lists_every_command_without_importing_any_domain_stack() -> None:
    output, loaded = _loaded("--help")
    for name, entry in LAZY.items():
        assert name in output and entry.help.split(" / ")[0][:30] in output
    assert not loaded & HEAVY, loaded & HEAVY


def test_light_sub_commands_stay_light() -> None:
    for argv in (["campaign", "--help"], ["campaign", "outcomes", "--help"], ["telephony", "--help"]):
        output, loaded = _loaded(*argv)
        assert "Usage: advisor" in output and not loaded & HEAVY, (argv, loaded & HEAVY)
    output, _ = _loaded("campaign", "outcomes", "--help")
    assert "client_id,activity_date" in output and "outcomes.py" not in output


def test_every_registered_command_resolves() -> None:
    for name, entry in LAZY.items():
        command = load(name, entry)
        assert command.name == name and (command.help or command.short_help)


def test_a_lazy_command_runs_through_the_top_level_group(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["console", "new-key", "grafana", "--role", "admin"])
    assert result.exit_code == 0, result.output
    assert "ADVISOR_CONSOLE__API_KEYS__GRAFANA__ROLE=admin" in result.output
    assert CliRunner().invoke(app, ["no-such-command"]).exit_code == 2


def test_a_long_step_shows_progress_lines_when_not_on_a_terminal() -> None:
    stream = io.StringIO()
    with Ticker("Evaluating 467 examples", stream=stream):
        pass
    lines = stream.getvalue().splitlines()
    assert lines[0] == "Evaluating 467 examples …" and lines[1].startswith("Evaluating 467 examples: done in ")


def test_json_logs_go_to_a_file_when_a_person_watches_the_terminal(tmp_path: Path) -> None:
    assert log_file("auto", tmp_path, interactive=True) == tmp_path / "app.jsonl"
    assert log_file("auto", tmp_path, interactive=False) is None  # services and CI keep stderr
    assert log_file("file", tmp_path, interactive=False) == tmp_path / "app.jsonl"
    assert log_file("stderr", tmp_path, interactive=True) is None


def test_the_start_up_summary_says_where_to_go_and_how_to_log_in(tmp_path: Path) -> None:
    settings = load_settings(data_dir=tmp_path)
    text = summary(settings, model=Path("advisor-abc.tar.gz"), ingested="104 indexed (361 chunks)", logs=tmp_path / "a")
    assert "http://localhost:8000/console" in text and "hash-password" in text  # no users yet: how to make one
    assert "104 indexed" in text and str(tmp_path / "a") in text and "ADVISOR_TELEPHONY__AUTH_TOKEN" in text
    with_user = load_settings(
        data_dir=tmp_path, console={"users": {"alice": {"password_hash": SecretStr("x"), "role": "admin"}}}
    )
    assert "alice (admin)" in summary(with_user, model=Path("m"), ingested="-", logs=None)


def test_nlu_eval_counts_the_examples_it_will_evaluate(tmp_path: Path) -> None:
    from bot.runtime.nlu_eval import count_examples

    path = tmp_path / "nlu.yml"
    path.write_text(
        json.dumps({"version": "3.1", "nlu": [{"intent": "greet", "examples": "- 你好\n- hello\n"}]}), encoding="utf-8"
    )
    assert count_examples(path) == 2 and count_examples(tmp_path / "missing.yml") == 0
