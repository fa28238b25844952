"""Report maths (known inputs, known z/p/CI), outcome import, and the funnel from real attempts and leads."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.campaigns.calls import record_call_outcome
from bot.campaigns.dialer import run_campaign
from bot.campaigns.models import CampaignAttempt, CampaignClient
from bot.campaigns.outcomes import import_outcomes
from bot.campaigns.report import build_report, list_campaigns, two_proportion
from bot.db import transaction
from bot.errors import InputError
from bot.settings import Settings
from tests.campaigns.conftest import T0
from tests.campaigns.fakes import FakeClock, FakeProvider, client, make_campaign
from tests.leads.conftest import record


def test_two_proportion_uses_newcombe_and_a_verdict() -> None:
    # Newcombe (1998), Statistics in Medicine 17:873, Table II, method 10: 56/70 - 48/80 -> [0.0524, 0.3339].
    result = two_proportion(56, 70, 48, 80, treatment="treatment", min_clients=30)
    assert result.uplift == pytest.approx(0.2)
    assert (result.ci_low, result.ci_high) == (pytest.approx(0.0524, abs=1e-4), pytest.approx(0.3339, abs=1e-4))
    assert result.relative_uplift == pytest.approx(1 / 3)
    assert result.significant and result.p_value is not None and result.p_value < 0.05
    assert (result.verdict, result.verdict_label.zh) == ("up", "显著提升")


def test_the_issue_case_zero_of_five_is_not_called_significant() -> None:
    """Control 0/5, treatment 7/24 (+29.17 pp): Wald said [+10.98, +47.35] next to p = 0.166."""
    result = two_proportion(7, 24, 0, 5, treatment="treatment", min_clients=30)
    assert result.uplift == pytest.approx(0.2917, abs=1e-4)
    assert result.ci_low is not None and result.ci_low < 0 < (result.ci_high or 0)
    assert result.p_value is not None and result.p_value > 0.05 and not result.significant
    assert (result.verdict, result.verdict_label.zh) == ("too_few", "样本不足")


def test_two_proportion_degenerate_cases() -> None:
    empty = two_proportion(0, 0, 1, 10, treatment="t")
    assert (empty.uplift, empty.verdict) == (None, "no_data")
    flat = two_proportion(0, 10, 0, 10, treatment="t")
    assert (flat.uplift, flat.p_value, flat.significant, flat.verdict) == (0.0, 1.0, False, "unclear")


def _activity(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_report_funnel_outcomes_and_leads(sessions: sessionmaker[Session], settings: Settings, tmp_path: Path) -> None:
    settings = settings.model_copy(
        update={"telephony": settings.telephony.model_copy(update={"public_base_url": "https://bank.example"})}
    )
    rows = [client(f"c{i}", phone=f"+8529000{i:04d}") for i in range(20)]
    created = make_campaign(sessions, settings, tmp_path / "c.csv", rows, as_of=T0, control_share=0.5)
    campaign_id = created.campaign_id
    provider = FakeProvider(sessions, FakeClock(T0))
    asyncio.run(run_campaign(sessions=sessions, provider=provider, settings=settings, campaign_id=campaign_id,
                             clock=provider.clock, progress=False))  # fmt: skip
    with transaction(sessions) as session:
        attempts = session.scalars(select(CampaignAttempt).order_by(CampaignAttempt.id)).all()
        record_call_outcome(session, attempt_id=attempts[0].id, engaged=True)
        record_call_outcome(session, attempt_id=attempts[1].id, opted_out=True)
        record(session, client_key=attempts[0].client_id, sender_id=f"voice:{attempts[0].call_sid}", channel="voice",
               conversation_id=f"voice:{attempts[0].call_sid}")  # fmt: skip
        record(session, client_key="web-only", conversation_id="web:1")  # not a campaign call
        arms = dict(session.execute(select(CampaignClient.client_id, CampaignClient.arm)).tuples().all())
    treated = sorted(c for c, a in arms.items() if a == "treatment")
    control = sorted(c for c, a in arms.items() if a == "control")
    assert len(treated) == len(control) == 10
    lines = ["client_id,activity_date,purchased,aum_increase"]
    lines += [f"{c},2026-12-10,yes,50000" for c in treated[:4]] + [f"{c},2026-12-10,yes," for c in control[:1]]
    lines += [f"{control[1]},2026-12-10,no,0", "stranger,2026-12-10,yes,1", f"{treated[5]},bad,maybe,1"]
    lines += [f"{treated[6]},2027-06-01,yes,1"]  # outside the 30-day window
    path = _activity(tmp_path / "activity.csv", "\n".join(lines) + "\n")
    with transaction(sessions) as session:
        first = import_outcomes(session, campaign_id=campaign_id, path=path)
    with transaction(sessions) as session:
        again = import_outcomes(session, campaign_id=campaign_id, path=path)
    assert (first.rows, first.values_new, len(first.rejected)) == (9, 13, 2)
    assert [r["reasons"] for r in first.rejected] == [["unknown_client"], ["bad_date", "bad_value:purchased"]]
    assert (again.values_new, again.values_already_imported) == (0, 13)

    with sessions() as session:
        report = build_report(session, campaign_id=campaign_id)
        by_aum = build_report(session, campaign_id=campaign_id, outcome="aum_increase")
        listed = list_campaigns(session)
    arms_ = {a.arm: a for a in report.arms}
    t, c = arms_["treatment"].funnel, arms_["control"].funnel
    assert (t.eligible, t.dialed, t.answered, t.human, t.converted) == (10, 10, 10, 10, 4)
    assert (t.engaged, t.opt_outs, t.leads) == (1, 1, 1)
    assert (c.eligible, c.dialed, c.converted) == (10, 0, 1)
    assert report.uplift is not None
    expected = two_proportion(4, 10, 1, 10, treatment="treatment")
    assert report.uplift.uplift == pytest.approx(0.3) and report.uplift.p_value == expected.p_value
    assert report.uplift.verdict == "too_few"  # 10 per side, below campaigns.min_clients_per_arm (30)
    assert report.outcome_sources == {"treatment": ["imported"], "control": ["imported"]}
    assert by_aum.arms[1].funnel.converted == 4 and by_aum.outcome == "aum_increase"
    assert listed[0].id == campaign_id and listed[0].eligible == 20


def test_bad_activity_files_are_refused(sessions: sessionmaker[Session], settings: Settings, tmp_path: Path) -> None:
    created = make_campaign(sessions, settings, tmp_path / "c.csv", [client("a")], as_of=T0)
    with transaction(sessions) as session, pytest.raises(InputError, match="client_id,activity_date"):
        import_outcomes(session, campaign_id=created.campaign_id, path=_activity(tmp_path / "x.csv", "id,date\n"))
    with transaction(sessions) as session, pytest.raises(InputError, match="no campaign"):
        import_outcomes(session, campaign_id=999, path=tmp_path / "x.csv")
