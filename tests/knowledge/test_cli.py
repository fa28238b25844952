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
