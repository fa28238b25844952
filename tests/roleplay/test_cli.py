"""`advisor roleplay score TRANSCRIPT --json`: a contract for outside tests; and the terminal session."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.roleplay import cli
from bot.settings import REPO_ROOT, Settings
from tests.roleplay.support import build_schema

STRONG = [
    {"role": "client", "text": "你好，我想了解一下理财。"},
    {"role": "advisor", "text": "您好，我是您的理财经理小李。请问这笔钱您打算用来做什么，大概多久会用到？"},
    {"role": "client", "text": "给家里攒钱，三年内不会动。"},
    {"role": "advisor", "text": "明白。平时有没有需要随时取用的应急资金？您以前买过理财或基金吗？"},
    {"role": "client", "text": "要留几万块应急，以前买过银行理财。"},
    {"role": "advisor", "text": "谢谢您。请问您的风险测评结果是什么类型？能接受多大的亏损？"},
    {"role": "client", "text": "我是稳健型，能接受小幅波动。"},
    {
        "role": "advisor",
        "text": "建议您考虑季享90天持有期产品（R2）。理财非存款、产品有风险、投资须谨慎，净值会波动，不保本。",
    },
    {"role": "client", "text": "会不会亏钱啊？我有点担心。"},
    {"role": "advisor", "text": "理解您的担心。它主要投资债券，净值会有波动，可能出现亏损，所以只用三年内不用的钱。"},
    {"role": "advisor", "text": "谢谢您的时间，有问题随时联系我，再见！"},
]


@pytest.fixture
def runner(monkeypatch: pytest.MonkeyPatch, rp_settings: Settings) -> CliRunner:
    monkeypatch.setattr(cli, "get_settings", lambda: rp_settings)
    return CliRunner()


def _write(path: Path, rows: list[dict[str, str]]) -> Path:
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n", encoding="utf-8")
    return path


def test_score_json_contract(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(cli.roleplay_app, ["score", str(_write(tmp_path / "t.jsonl", STRONG)), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["passed"] is True and report["persona_id"] == "neutral"
    assert isinstance(report["score"], float) and report["max_score"] == 100
    for criterion in report["criteria"].values():
        assert {"score", "max", "passed", "evidence"} <= set(criterion)
        assert all("quote" in e for e in criterion["evidence"])


def test_one_guarantee_fails_with_the_sentence_quoted(runner: CliRunner, tmp_path: Path) -> None:
    rows = [*STRONG[:7], {"role": "advisor", "text": "这款理财保本，您放心买。"}, *STRONG[8:]]
    result = runner.invoke(cli.roleplay_app, ["score", str(_write(tmp_path / "t.jsonl", rows)), "--json"])
    report = json.loads(result.stdout)
    assert result.exit_code == 0 and report["passed"] is False
    compliance = report["criteria"]["compliance"]
    assert compliance["passed"] is False
    assert "这款理财保本，您放心买。" in [e["quote"] for e in compliance["evidence"]]


def test_r4_to_a_c2_persona_fails_suitability(runner: CliRunner, tmp_path: Path) -> None:
    rows = [
        {"role": "advisor", "text": "您好，请问您的风险测评结果是什么？"},
        {"role": "client", "text": "稳健型。"},
        {"role": "advisor", "text": "我推荐您买沪深300指数基金。理财非存款、产品有风险、投资须谨慎。"},
    ]
    path = _write(tmp_path / "t.jsonl", rows)
    for extra in ([], ["--persona", "above_level_client"], ["--persona", "dormant_payroll"]):
        report = json.loads(runner.invoke(cli.roleplay_app, ["score", str(path), "--json", *extra]).stdout)
        assert report["criteria"]["suitability"]["passed"] is False and report["passed"] is False


def test_bad_transcripts_exit_2_naming_the_line(runner: CliRunner, tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text('{"role": "advisor", "text": "hi"}\n{"role": "boss", "text": "x"}\n', encoding="utf-8")
    result = runner.invoke(cli.roleplay_app, ["score", str(path), "--json"])
    assert result.exit_code == 2 and "line 2" in result.output
    assert runner.invoke(cli.roleplay_app, ["score", str(tmp_path / "missing.jsonl")]).exit_code == 2
    empty = tmp_path / "empty.jsonl"
    empty.write_text("\n", encoding="utf-8")
    assert runner.invoke(cli.roleplay_app, ["score", str(empty)]).exit_code == 2
    unknown = runner.invoke(cli.roleplay_app, ["score", str(_write(tmp_path / "t.jsonl", STRONG)), "-p", "nobody"])
    assert unknown.exit_code == 2 and "unknown persona" in unknown.output


def test_stdin_array_and_text_report(runner: CliRunner) -> None:
    result = runner.invoke(cli.roleplay_app, ["score", "-"], input=json.dumps(STRONG, ensure_ascii=False))
    assert result.exit_code == 0 and "通过 PASS" in result.output and "合规用语" in result.output


def test_terminal_session(runner: CliRunner, rp_settings: Settings) -> None:
    build_schema(rp_settings.database_url)
    typed = "您好，打扰您几分钟可以吗？\n请问您的风险测评结果是什么？\n/end\n"
    result = runner.invoke(
        cli.roleplay_app, ["--persona", "dormant_payroll", "--advisor", "a9", "--seed", "5"], input=typed
    )
    assert result.exit_code == 0, result.output
    assert "王磊" in result.output and "我挺忙的" in result.output and "稳健型" in result.output
    assert "KYC" in result.output
    team = runner.invoke(cli.roleplay_app, ["team", "--json"])
    assert json.loads(team.stdout)["sessions"] == 1
    listing = runner.invoke(cli.roleplay_app, ["personas"])
    assert "expat_professional" in listing.output


def test_runs_as_a_real_process(tmp_path: Path) -> None:
    """The same command from a fresh interpreter (as `advisor roleplay score` will run)."""
    path = _write(tmp_path / "t.jsonl", STRONG)
    env = {"PATH": "/usr/bin:/bin", "ADVISOR_DATA_DIR": str(tmp_path / "var"), "HOME": str(tmp_path)}
    done = subprocess.run(
        [sys.executable, "-m", "bot.roleplay.cli", "score", str(path), "--json", "--no-judge"],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["passed"] is True
