"""The CLI contracts: `advisor kb ingest|search` and `advisor ask --json`."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import typer
from typer.testing import CliRunner

from bot.knowledge.cli import ask, kb_app
from bot.settings import get_settings
from tests.knowledge.conftest import write_corpus

app = typer.Typer()
app.add_typer(kb_app, name="kb")
app.command()(ask)
runner = CliRunner()


@pytest.fixture
def cli_corpus(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A corpus valid today (the CLI uses the real clock) and settings read from the environment."""
    monkeypatch.setenv("ADVISOR_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.delenv("ADVISOR_LLM__PROVIDER", raising=False)
    get_settings.cache_clear()
    yield write_corpus(tmp_path / "corpus", today=datetime.now(ZoneInfo("Asia/Shanghai")).date())
    get_settings.cache_clear()


def test_ingest_search_and_ask(cli_corpus: Path) -> None:
    result = runner.invoke(app, ["kb", "ingest", str(cli_corpus), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["summary"].startswith("8 indexed")
    assert {i["outcome"] for i in report["items"]} == {"indexed", "skipped", "invalid"}

    result = runner.invoke(app, ["kb", "search", "稳享的管理费是多少", "--json", "-k", "3"])
    assert result.exit_code == 0, result.output
    found = json.loads(result.stdout)
    assert found["hits"][0]["id"] == "WM100"
    assert {"score", "relevance", "text", "chunk_id"} <= set(found["hits"][0])

    result = runner.invoke(app, ["ask", "稳享的管理费是多少？", "--json", "--channel", "voice", "--risk-level", "C3"])
    assert result.exit_code == 0, result.output
    answer = json.loads(result.stdout)
    assert set(answer) == {"answer", "citations", "grounded", "mode", "disclosures"}
    assert answer["grounded"] and answer["mode"] == "extractive"
    assert answer["citations"][0] == {"id": "WM100", "title": "测试银行稳享90天持有期理财产品"}

    result = runner.invoke(app, ["ask", "Who won the NBA finals?", "--json"])
    declined = json.loads(result.stdout)
    assert declined["grounded"] is False and declined["citations"] == []


def test_human_readable_output(cli_corpus: Path) -> None:
    result = runner.invoke(app, ["kb", "ingest", str(cli_corpus)])
    assert "docs/broken.md [broken]" in result.stdout and "draft: no approval" in result.stdout
    strict = runner.invoke(app, ["kb", "ingest", str(cli_corpus), "--strict"])
    assert strict.exit_code == 1  # invalid files present
    result = runner.invoke(app, ["ask", "稳享理财怎么赎回？"])
    assert result.exit_code == 0 and "[" in result.stdout


def test_errors_are_reported_not_raised(cli_corpus: Path, tmp_path: Path) -> None:
    result = runner.invoke(app, ["kb", "ingest", str(tmp_path / "missing")])
    assert result.exit_code == 2 and "not a folder" in result.output
    result = runner.invoke(app, ["ask", "理财", "--risk-level", "R3"])
    assert result.exit_code == 2 and "C1" in result.output


def test_ingest_prints_what_the_gate_calibrated(cli_corpus: Path) -> None:
    result = runner.invoke(app, ["kb", "ingest", str(cli_corpus)])
    assert "answer gate: calibrated on" in result.stdout and "out-of-domain declined" in result.stdout
    report = json.loads(runner.invoke(app, ["kb", "ingest", str(cli_corpus), "--json"]).stdout)
    assert report["gate"] and "threshold" in report["gate"][1]


def test_ask_batch_answers_one_json_line_per_question(cli_corpus: Path, tmp_path: Path) -> None:
    runner.invoke(app, ["kb", "ingest", str(cli_corpus)])
    batch = tmp_path / "questions.jsonl"
    lines = [
        {"q": "稳享的管理费是多少？"},
        {"q": "How do I redeem a wealth product?", "channel": "voice", "language": "en"},
        {"q": "红烧肉怎么做才不腻？"},
    ]
    batch.write_text("\n".join(json.dumps(x, ensure_ascii=False) for x in lines) + "\n", encoding="utf-8")
    result = runner.invoke(app, ["ask", "--batch", str(batch), "--json"])
    assert result.exit_code == 0, result.output
    answers = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(answers) == 3 and all(
        set(a) == {"answer", "citations", "grounded", "mode", "disclosures"} for a in answers
    )
    assert answers[0]["citations"][0]["id"] == "WM100"
    assert answers[1]["grounded"] and answers[1]["citations"][0]["id"] == "faq-redeem-en"
    assert not answers[2]["grounded"]


def test_ask_batch_reports_bad_lines_and_answers_the_rest(cli_corpus: Path, tmp_path: Path) -> None:
    runner.invoke(app, ["kb", "ingest", str(cli_corpus)])
    batch = tmp_path / "bad.jsonl"
    batch.write_text(
        '{"q": "稳享的管理费是多少？"}\nnot json\n{"q": " "}\n{"q": "x", "channel": "fax"}\n', encoding="utf-8"
    )
    result = runner.invoke(app, ["ask", "--batch", str(batch), "--json"])
    assert result.exit_code == 1
    out = [json.loads(line) for line in result.stdout.splitlines()]
    assert out[0]["grounded"] and [o["line"] for o in out[1:]] == [2, 3, 4]
    assert "not JSON" in out[1]["error"] and "empty" in out[2]["error"] and "channel" in out[3]["error"]
    assert runner.invoke(app, ["ask", "--batch", str(tmp_path / "missing.jsonl")]).exit_code == 2
    assert runner.invoke(app, ["ask"]).exit_code == 2  # neither a question nor a batch


def test_kb_evaluate(cli_corpus: Path, tmp_path: Path) -> None:
    runner.invoke(app, ["kb", "ingest", str(cli_corpus)])
    batch = tmp_path / "eval.jsonl"
    lines = [
        {"q": "稳享的管理费是多少？", "expect": ["WM100"]},
        {"q": "业绩比较基准是预期收益吗？", "expect": ["faq-benchmark-zh"]},
        {"q": "稳享的管理费是多少？", "expect": ["faq-redeem-zh"]},  # a deliberate miss
        {"q": "Who won the NBA finals?", "expect": []},
    ]
    batch.write_text("\n".join(json.dumps(x, ensure_ascii=False) for x in lines), encoding="utf-8")
    result = runner.invoke(app, ["kb", "evaluate", str(batch), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    summary = report["summary"]
    assert summary["questions"] == 3 and summary["out_of_scope"] == 1
    assert summary["answered_correct"] == pytest.approx(2 / 3, abs=0.001) and summary["out_of_scope_declined"] == 1.0
    assert summary["hit@1"] == pytest.approx(2 / 3, abs=0.001)
    assert [m["line"] for m in report["misses"]] == [3] and report["misses"][0]["problem"] == "wrong citation"
    text = runner.invoke(app, ["kb", "evaluate", str(batch)]).stdout
    assert "answered_correct 0.667" in text and "line 3: wrong citation" in text
