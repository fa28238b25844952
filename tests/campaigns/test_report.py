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


def test_two_proportion_z_test_known_values() -> None:
    # 120/1000 vs 90/1000: pooled p = 0.105, SE0 = 0.0137095, z = 2.18826, p = 0.02865;
    # unpooled SE = 0.0136931, CI = 0.03 ± 0.0268379.
    result = two_proportion(120, 1000, 90, 1000, treatment="treatment")
    assert result.uplift == pytest.approx(0.03)
    assert result.z == pytest.approx(2.18826, abs=1e-4)
    assert result.p_value == pytest.approx(0.02865, abs=1e-4)
    assert (result.ci_low, result.ci_high) == (pytest.approx(0.0031621, abs=1e-5), pytest.approx(0.0568379, abs=1e-5))
    assert result.relative_uplift == pytest.approx(1 / 3)
    assert result.significant


def test_two_proportion_degenerate_cases() -> None:
    assert two_proportion(0, 0, 1, 10, treatment="t").uplift is None
    flat = two_proportion(0, 10, 0, 10, treatment="t")
    assert (flat.uplift, flat.z, flat.p_value, flat.significant) == (0.0, None, None, False)


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
    assert by_aum.arms[1].funnel.converted == 4 and by_aum.outcome == "aum_increase"
    assert listed[0].id == campaign_id and listed[0].eligible == 20


def test_bad_activity_files_are_refused(sessions: sessionmaker[Session], settings: Settings, tmp_path: Path) -> None:
    created = make_campaign(sessions, settings, tmp_path / "c.csv", [client("a")], as_of=T0)
    with transaction(sessions) as session, pytest.raises(InputError, match="client_id,activity_date"):
        import_outcomes(session, campaign_id=created.campaign_id, path=_activity(tmp_path / "x.csv", "id,date\n"))
    with transaction(sessions) as session, pytest.raises(InputError, match="no campaign"):
        import_outcomes(session, campaign_id=999, path=tmp_path / "x.csv")
