"""CLI contract (typer's CliRunner against a real SQLite file) and the JSON API behind the API key."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from bot.campaigns import cli
from bot.campaigns.views import router
from bot.db import make_engine, session_factory
from bot.error_handlers import install_error_handlers
from bot.settings import Settings, load_settings
from tests.campaigns.conftest import T0
from tests.campaigns.fakes import FakeClock, FakeProvider, client, make_campaign, write_csv

KEY = "campaign-test-key-0123456789"


@pytest.fixture
def cli_settings(tmp_path: Path) -> Settings:
    # Calling allowed all day every day, so the run below does not depend on when the test runs.
    return load_settings(
        data_dir=tmp_path / "var",
        telephony={"public_base_url": "https://bank.example"},
        campaigns={"calling_hours_start": "00:00", "calling_hours_end": "23:59", "rest_weekdays": [],
                   "rest_dates": [], "control_share": 0.25},
    )  # fmt: skip


@pytest.fixture
def runner(monkeypatch: pytest.MonkeyPatch, cli_settings: Settings) -> CliRunner:
    engine = make_engine(cli_settings.database_url)
    provider = FakeProvider(session_factory(engine), FakeClock(datetime.now(UTC)))
    monkeypatch.setattr(cli, "get_settings", lambda: cli_settings)
    monkeypatch.setattr(cli, "build_provider", lambda _settings: provider)
    return CliRunner()


def test_create_run_outcomes_report_through_the_cli(runner: CliRunner, tmp_path: Path) -> None:
    rows = [client(f"c{i}", phone=f"+4477009{i:05d}", last_activity_date="2025-01-01") for i in range(8)]
    rows.append(client("bad", phone="12345"))
    path = write_csv(tmp_path / "clients.csv", rows)
    created = runner.invoke(cli.campaign_app, ["create", "--name", "冬季唤醒", "--clients", str(path), "--seed", "5",
                                               "--json"])  # fmt: skip
    assert created.exit_code == 0, created.output
    body = json.loads(created.stdout)
    campaign_id = body["campaign_id"]
    assert (body["seed"], body["summary"]["rows"], body["summary"]["rejected"]) == (5, 9, 1)
    [rejected] = body["rejected_rows"]
    assert (rejected["row"], rejected["client_id"], rejected["reasons"][0].split(":")[0]) == (10, "bad", "bad_phone")
    assert "+8613812345678" in rejected["reasons"][0]  # says what a valid phone looks like
    assert body["summary"]["arms"] == {"control": 2, "treatment": 6}

    text = runner.invoke(cli.campaign_app, ["list"])
    assert text.exit_code == 0 and "冬季唤醒" in text.output and "待外呼 Planned" in text.output

    dry = runner.invoke(cli.campaign_app, ["run", str(campaign_id), "--dry-run", "--json"])
    assert dry.exit_code == 0, dry.output
    assert json.loads(dry.stdout)["dialed"] == 0
    dry_text = runner.invoke(cli.campaign_app, ["run", str(campaign_id), "--dry-run"])
    assert dry_text.exit_code == 0 and "not now:" not in dry_text.output.replace("现在不拨 not now: ", "")

    ran = runner.invoke(cli.campaign_app, ["run", str(campaign_id), "--cps", "30", "--json"])
    assert ran.exit_code == 0, ran.output
    summary = json.loads(ran.stdout)
    assert summary["dialed"] + summary["skipped"].get("outside_hours", 0) == 6

    activity = tmp_path / "activity.csv"
    activity.write_text("client_id,activity_date,purchased\nc0,2099-01-01,yes\n", encoding="utf-8")
    imported = runner.invoke(cli.campaign_app, ["outcomes", str(campaign_id), "--file", str(activity), "--json"])
    assert imported.exit_code == 0 and json.loads(imported.stdout)["values_new"] == 1

    report = runner.invoke(cli.campaign_app, ["report", str(campaign_id), "--json"])
    assert report.exit_code == 0, report.output
    data = json.loads(report.stdout)
    assert {a["arm"] for a in data["arms"]} == {"control", "treatment"}
    assert data["uplift"]["n_treatment"] == 6 and data["outcome"] == "purchased"
    human = runner.invoke(cli.campaign_app, ["report", str(campaign_id)])
    assert human.exit_code == 0 and "uplift" in human.output
    uplift_lines = human.output.split("提升 uplift", 1)[1]
    assert " pp [95% CI " in uplift_lines and not re.search(r"[+-]\d+\.\d+%", uplift_lines)  # one unit: pp
    assert "样本不足 Too few to tell" in human.output  # 6 treated vs 2 control clients
    # the WeCom add rate next to conversion, saying which sources each side counts
    [adds] = data["alongside"]
    assert adds["outcome"] == "wecom_added" and {a["arm"]: a["sources"] for a in adds["arms"]} == {
        "treatment": ["imported", "callback"], "control": ["imported"],
    }  # fmt: skip
    assert "添加理财经理企业微信 Added the advisor on WeCom (wecom_added)" in human.output
    assert "来源 sources: 处理组 导入数据+回调归因 · 对照组 导入数据" in human.output
    assert "已完成 Completed" in human.output or "进行中 Running" in human.output


def test_dry_run_shows_scheduled_times_and_lifecycle_commands(runner: CliRunner, tmp_path: Path) -> None:
    soon = (datetime.now(UTC) + timedelta(days=10)).day
    payday = str(soon if soon <= 28 else 1)  # a payday whose window (it and the 3 days after) is not today
    rows = [client("early", phone="+85290000001"), client("payroll", phone="+85290000002", payroll_day=payday)]
    path = write_csv(tmp_path / "clients.csv", rows)
    created = json.loads(
        runner.invoke(
            cli.campaign_app, ["create", "--name", "x", "--clients", str(path), "--control-share", "0", "--json"]
        ).stdout
    )
    campaign_id = str(created["campaign_id"])
    dry = runner.invoke(cli.campaign_app, ["run", campaign_id, "--dry-run"])
    assert dry.exit_code == 0, dry.output
    # the payroll client waits for payday (calling hours here start at 00:00): the time is shown with its zone
    assert "scheduled calls" in dry.output and f"-{int(payday):02d} 00:00 Asia/Hong_Kong · 1 client(s)" in dry.output
    assert runner.invoke(cli.campaign_app, ["pause", campaign_id]).output.strip().endswith("已暂停 Paused")
    refused = runner.invoke(cli.campaign_app, ["run", campaign_id])
    assert refused.exit_code == 2 and f"advisor campaign resume {campaign_id}" in refused.output
    assert "待外呼 Planned" in runner.invoke(cli.campaign_app, ["resume", campaign_id]).output
    assert runner.invoke(cli.campaign_app, ["delete", campaign_id]).exit_code == 2  # needs --yes
    deleted = runner.invoke(cli.campaign_app, ["delete", campaign_id, "--yes"])
    assert deleted.exit_code == 0 and "deleted" in deleted.output
    assert "no campaigns" in runner.invoke(cli.campaign_app, ["list"]).output


def test_creating_a_campaign_nobody_can_be_called_in_warns(runner: CliRunner, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "clients.csv", [client("a", consent_call="no", consent_date="")])
    result = runner.invoke(cli.campaign_app, ["create", "--name", "空", "--clients", str(path)])
    assert (
        result.exit_code == 0 and "No eligible client" in result.output and "advisor campaign delete" in result.output
    )
    assert "未同意外呼 no consent 1" in result.output  # reasons by their labels


def test_bad_input_exits_2_with_a_clear_message(runner: CliRunner, tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("client_id,name\nc1,x\n", encoding="utf-8")
    result = runner.invoke(cli.campaign_app, ["create", "--name", "x", "--clients", str(bad)])
    assert result.exit_code == 2 and "lacks column" in result.output
    missing = runner.invoke(cli.campaign_app, ["report", "999"])
    assert missing.exit_code == 2 and "no campaign 999" in missing.output
    variant = runner.invoke(cli.campaign_app, ["create", "--name", "x", "--clients", str(bad), "--variant", "A"])
    assert variant.exit_code == 2 and "ARM=SCRIPT_ID" in variant.output
    untrained = runner.invoke(cli.campaign_app, ["train-propensity"])
    assert untrained.exit_code == 2 and "no campaign has imported outcome" in untrained.output


def _app(settings: Settings, sessions: sessionmaker[Session]) -> FastAPI:
    app = FastAPI()
    app.state.settings = settings
    app.state.sessions = sessions
    app.include_router(router)
    install_error_handlers(app)  # as create_app does
    return app


def test_api_lists_and_reports_behind_the_key(
    sessions: sessionmaker[Session], settings: Settings, tmp_path: Path
) -> None:
    created = make_campaign(sessions, settings, tmp_path / "c.csv", [client("a"), client("b", phone="+85290000002")],
                            as_of=T0)  # fmt: skip
    keyed = settings.model_copy(update={"leads": settings.leads.model_copy(update={"api_key": SecretStr(KEY)})})
    with TestClient(_app(keyed, sessions)) as http:
        assert http.get("/api/campaigns").status_code == 401
        listed = http.get("/api/campaigns", headers={"X-API-Key": KEY})
        assert listed.status_code == 200 and listed.json()[0]["id"] == created.campaign_id
        report = http.get(
            f"/api/campaigns/{created.campaign_id}/report?outcome=aum_increase", headers={"X-API-Key": KEY}
        )
        assert report.status_code == 200
        assert report.json()["outcome"] == "aum_increase" and report.json()["arms"]
        assert [c["outcome"] for c in report.json()["alongside"]] == ["wecom_added"]
        assert http.get("/api/campaigns/999/report", headers={"X-API-Key": KEY}).status_code == 404
        assert (
            http.get(
                f"/api/campaigns/{created.campaign_id}/report?outcome=DROP;", headers={"X-API-Key": KEY}
            ).status_code
            == 422
        )
    with TestClient(_app(settings, sessions)) as http:
        assert http.get("/api/campaigns", headers={"X-API-Key": "x"}).status_code == 503
