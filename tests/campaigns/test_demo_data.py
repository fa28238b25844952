"""The shipped demo: 12 payroll and dormant segments, and a sample client list that fills every one of them."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from bot.campaigns.cli import OUTCOMES_HELP
from bot.campaigns.labels import outcome_specs
from bot.campaigns.segments import load_segments
from bot.campaigns.service import CreateOptions, create_campaign
from bot.db import transaction
from bot.settings import REPO_ROOT, Settings
from telephony.factory import refusal_rule
from tests.campaigns.conftest import T0

SAMPLE = REPO_ROOT / "bot" / "campaigns" / "examples" / "clients.csv"


def test_the_demo_segments_follow_payday_and_behaviour_breakpoints(settings: Settings) -> None:
    segments = load_segments(settings.campaigns.segments_file)
    assert len(segments) == 12
    payroll = [s for s in segments if s.when.payroll]
    assert len(payroll) == 6 and all(s.call_days_after_payday is not None for s in payroll)
    assert any("browsed_not_bought" in (s.when.tags_any or []) for s in payroll)
    assert any("salary_outflow" in (s.when.tags_any or []) for s in payroll)
    assert all(s.label.get("zh") and s.label.get("en") for s in segments)
    assert segments[-1].when.model_dump(exclude_none=True) == {}  # the last one catches everyone


def test_the_sample_client_list_fills_all_twelve_segments(
    sessions: sessionmaker[Session], settings: Settings, tmp_path: Path
) -> None:
    with transaction(sessions) as session:
        created = create_campaign(
            session, settings, CreateOptions(name="示例 demo", as_of=T0, seed=7), clients_file=SAMPLE,
            refusal=refusal_rule(settings),
        )  # fmt: skip
    summary = created.summary
    assert 180 <= summary["rows"] <= 250
    assert set(summary["segments"]) == {s.id for s in load_segments(settings.campaigns.segments_file)}
    assert min(summary["segments"].values()) >= 10
    # some rows are bad on purpose, and each reason tells how to fix it
    assert 5 <= summary["rejected"] <= 20
    reasons = [r for row in created.rejected_rows for r in row["reasons"]]
    assert any("allowed: low, medium, high, very_high" in r for r in reasons)
    assert all(": " in r for r in reasons)
    # some are valid but not to be called: no consent, recently active, mainland numbers Twilio refuses
    assert {"no_consent", "not_dormant", "provider_refused"} <= set(summary["excluded_reasons"])
    assert created.warnings == []


def test_outcomes_help_is_real_help() -> None:
    assert "client_id,activity_date" in OUTCOMES_HELP and "outcomes.py" not in OUTCOMES_HELP
    for name in outcome_specs():
        assert name in OUTCOMES_HELP
