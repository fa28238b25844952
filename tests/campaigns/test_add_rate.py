"""The WeCom add rate next to conversion: per arm and segment, Newcombe uplift, and the sources each arm counts."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.campaigns.models import CampaignClient
from bot.campaigns.outcomes import record_outcome
from bot.campaigns.report import build_report, two_proportion
from bot.db import transaction
from bot.settings import Settings
from tests.campaigns.conftest import T0
from tests.campaigns.fakes import client, make_campaign

DAY = date(2026, 12, 5)


def _add(session: Session, campaign_id: int, client_id: str, source: str) -> None:
    record_outcome(session, campaign_id=campaign_id, client_id=client_id, name="wecom_added", activity_date=DAY,
                   source=source)  # type: ignore[arg-type]  # fmt: skip


def test_the_add_rate_per_arm_and_segment_counts_callbacks_only_for_treated_arms(
    sessions: sessionmaker[Session], settings: Settings, tmp_path: Path
) -> None:
    rows = [client(f"c{i:02d}", phone=f"+8529000{i:04d}", tags="browsed_not_bought" if i % 2 else "")
            for i in range(40)]  # fmt: skip
    created = make_campaign(sessions, settings, tmp_path / "c.csv", rows, as_of=T0, control_share=0.5)
    campaign_id = created.campaign_id
    with transaction(sessions) as session:
        arms = dict(session.execute(select(CampaignClient.client_id, CampaignClient.arm)).tuples().all())
        treated = sorted(c for c, a in arms.items() if a == "treatment")
        control = sorted(c for c, a in arms.items() if a == "control")
        for c in treated[:6]:
            _add(session, campaign_id, c, "callback")  # added through the link offered on the call
        _add(session, campaign_id, treated[0], "imported")  # also in the bank's file: still one client
        _add(session, campaign_id, treated[6], "imported")
        _add(session, campaign_id, control[0], "imported")
        _add(session, campaign_id, control[1], "imported")
        _add(session, campaign_id, control[2], "callback")  # control has no link: never counted for it
    with sessions() as session:
        report = build_report(session, campaign_id=campaign_id)
        chosen = build_report(session, campaign_id=campaign_id, outcome="wecom_added")
    assert report.outcome == "purchased" and chosen.alongside == []  # shown once, never twice
    [adds] = report.alongside
    assert (adds.outcome, adds.outcome_label.zh) == ("wecom_added", "添加理财经理企业微信")
    assert adds.outcome_sources == {"treatment": ["imported", "callback"], "control": ["imported"]}
    by_arm = {a.arm: a for a in adds.arms}
    t, c = by_arm["treatment"], by_arm["control"]
    assert (t.eligible, t.converted, t.sources, t.by_source) == (
        len(treated), 7, ["imported", "callback"], {"imported": 2, "callback": 6},
    )  # fmt: skip
    assert (c.eligible, c.converted, c.sources, c.by_source) == (
        len(control), 2, ["imported"], {"imported": 2, "callback": 1},
    )  # fmt: skip
    assert t.rate == pytest.approx(7 / len(treated)) and c.rate == pytest.approx(2 / len(control))
    expected = two_proportion(7, len(treated), 2, len(control), treatment="treatment")
    assert adds.uplift is not None
    assert (adds.uplift.uplift, adds.uplift.ci_low, adds.uplift.ci_high, adds.uplift.p_value) == (
        expected.uplift, expected.ci_low, expected.ci_high, expected.p_value,
    )  # fmt: skip
    assert adds.uplift.method == "newcombe_hybrid_score" and adds.uplift.verdict == "too_few"  # 20 a side
    segments = {(s.segment, s.arm): s for s in adds.segments}
    assert {seg for seg, _ in segments} == {"dormant_high_aum", "dormant_browsed_not_bought"}
    assert sum(s.converted for (_, arm), s in segments.items() if arm == "treatment") == 7
    assert [u.segment for u in adds.uplift_by_segment] == [u.segment for u in report.uplift_by_segment]
    assert chosen.arms[1].funnel.converted == 7  # the same figure when chosen as the board's outcome
