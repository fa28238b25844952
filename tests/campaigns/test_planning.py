"""Eligibility (every exclusion with its reason), segments, schedule and the control group."""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.campaigns.models import CampaignClient
from bot.campaigns.planning import first_call
from bot.campaigns.service import CreateOptions, create_campaign
from bot.contacts.service import opt_out
from bot.db import transaction
from bot.errors import InputError
from bot.settings import Settings
from tests.campaigns.conftest import T0, add_attempt, add_campaign, add_client, rules
from tests.campaigns.fakes import REFUSED_CN, client, make_campaign, write_csv


def _rows(sessions: sessionmaker[Session], campaign_id: int) -> dict[str, CampaignClient]:
    with sessions() as session:
        found = session.scalars(select(CampaignClient).where(CampaignClient.campaign_id == campaign_id)).all()
    return {r.client_id: r for r in found}


def test_every_exclusion_is_recorded_with_its_reason(
    sessions: sessionmaker[Session], settings: Settings, tmp_path: Path
) -> None:
    with transaction(sessions) as session:
        opt_out(session, client_key="dnc-client", channel="wecom", evidence="不要再联系我")
        opt_out(session, client_key="someone", phone="+85290000002", channel="voice", evidence="opt out")
        other = add_campaign(session)
        called = add_client(session, other, client_id="capped", phone="+85290000003")
        add_attempt(session, called, dialing_at=T0 - timedelta(days=3))
    rows = [
        client("ok", phone="+85290000001"),
        client("no-consent", consent_call="no", consent_date="", phone="+85290000004"),
        client("active", last_activity_date="2026-11-20", phone="+85290000005"),
        client("dnc-client", phone="+85290000006"),
        client("dnc-phone", phone="+85290000002"),
        client("capped", phone="+85290000007"),
        client("mainland", phone="+8613812345678"),
        client("many", consent_call="no", consent_date="", last_activity_date="2026-11-30", phone="+8613912345678"),
    ]
    created = make_campaign(sessions, settings, tmp_path / "c.csv", rows, as_of=T0)
    got = {cid: (r.status, r.reasons) for cid, r in _rows(sessions, created.campaign_id).items()}
    assert got == {
        "ok": ("eligible", ""),
        "no-consent": ("excluded", "no_consent"),
        "active": ("excluded", "not_dormant"),
        "dnc-client": ("excluded", "do_not_contact"),
        "dnc-phone": ("excluded", "do_not_contact"),
        "capped": ("excluded", "frequency_cap"),
        "mainland": ("excluded", f"provider_refused: {REFUSED_CN}"),
        "many": ("excluded", f"no_consent;not_dormant;provider_refused: {REFUSED_CN}"),
    }
    assert created.summary["excluded_reasons"] == {
        "no_consent": 2, "not_dormant": 2, "do_not_contact": 2, "frequency_cap": 1, "provider_refused": 2,
    }  # fmt: skip


def test_a_refusal_text_with_semicolons_keeps_the_summary_readable(
    sessions: sessionmaker[Session], settings: Settings, tmp_path: Path
) -> None:
    """Twilio's real refusal text has a ';' in it; the summary once split it into a bogus reason."""
    from telephony.factory import refusal_rule

    rows = [client("mainland", phone="+8613812345678"), client("hk", phone="+85290000001")]
    write_csv(tmp_path / "c.csv", rows)
    with transaction(sessions) as session:
        created = create_campaign(
            session, settings, CreateOptions(name="x", as_of=T0, seed=1), clients_file=tmp_path / "c.csv",
            refusal=refusal_rule(settings),
        )  # fmt: skip
    assert created.summary["excluded_reasons"] == {"provider_refused": 1}
    [(text, count)] = created.summary["provider_refusals"].items()
    assert count == 1 and "mainland China (+86)" in text and "use a domestic carrier" in text
    stored = _rows(sessions, created.campaign_id)["mainland"].reasons
    assert stored.startswith("provider_refused: ") and stored.count(";") == 0


def test_segments_priority_and_payroll_schedule(
    sessions: sessionmaker[Session], settings: Settings, tmp_path: Path
) -> None:
    rows = [
        client("payroll", payroll_day="10", aum_band="low", phone="+85290000001"),
        client("rich", aum_band="very_high", phone="+85290000002"),
        client("old", aum_band="low", last_activity_date="2024-01-01", phone="+85290000003"),
        client("plain", aum_band="medium", phone="+85290000004"),
    ]
    created = make_campaign(sessions, settings, tmp_path / "c.csv", rows, as_of=T0, control_share=0.0)
    got = _rows(sessions, created.campaign_id)
    assert {cid: r.segment for cid, r in got.items()} == {
        "payroll": "payroll_other", "rich": "dormant_high_aum", "old": "dormant_long", "plain": "dormant_other",
    }  # fmt: skip
    # Hong Kong, 2026-12-01 (Tue) 11:00: payday the 10th -> Thursday 10 December 09:00 local
    assert got["payroll"].next_call_at == datetime(2026, 12, 10, 1, 0, tzinfo=UTC)
    assert got["rich"].next_call_at == T0
    assert got["rich"].script_id == "script-dormant-reactivation-zh"
    assert got["payroll"].script_id == "script-payroll-zh"
    # documented formula: 100 * (0.5 * aum + 0.3 * recency + 0.2 * payroll) + boost
    assert got["rich"].priority == pytest.approx(100 * (0.5 * 1.0 + 0.3 * (1 - (183 - 90) / 365)) + 10, abs=0.01)
    assert got["old"].priority == pytest.approx(100 * (0.5 * 0.2) + 0, abs=0.01)


@pytest.mark.parametrize(
    ("at", "tz", "expected"),
    [
        (datetime(2026, 12, 1, 3, 0, tzinfo=UTC), "Asia/Hong_Kong", datetime(2026, 12, 1, 3, 0, tzinfo=UTC)),
        (datetime(2026, 12, 1, 12, 0, tzinfo=UTC), "Asia/Hong_Kong", datetime(2026, 12, 2, 1, 0, tzinfo=UTC)),
        (datetime(2026, 12, 4, 12, 30, tzinfo=UTC), "Asia/Singapore", datetime(2026, 12, 7, 1, 0, tzinfo=UTC)),
        (datetime(2026, 12, 1, 3, 0, tzinfo=UTC), "Europe/London", datetime(2026, 12, 1, 9, 0, tzinfo=UTC)),
    ],
)
def test_first_call_is_inside_local_hours_and_never_on_rest_days(at: datetime, tz: str, expected: datetime) -> None:
    assert first_call(at, tz, rules().window) == expected


def test_holiday_is_skipped() -> None:
    window = rules(rest_dates=[datetime(2026, 12, 2).date()]).window
    assert first_call(datetime(2026, 12, 1, 12, tzinfo=UTC), "Asia/Hong_Kong", window) == datetime(
        2026, 12, 3, 1, 0, tzinfo=UTC
    )


def test_control_group_is_stratified_and_reproducible(
    sessions: sessionmaker[Session], settings: Settings, tmp_path: Path
) -> None:
    rng = random.Random(3)
    rows = [
        client(f"c{i:03d}", phone=f"+852900{i:05d}", aum_band=rng.choice(["low", "high"]),
               payroll_day=rng.choice(["", "5"]))
        for i in range(300)
    ]  # fmt: skip
    first = make_campaign(
        sessions,
        settings,
        tmp_path / "a.csv",
        rows,
        as_of=T0,
        seed=7,
        variants={"A": "script-payroll", "B": "script-dormant-reactivation"},
    )
    shuffled = rows[:]
    rng.shuffle(shuffled)
    again = make_campaign(
        sessions,
        settings,
        tmp_path / "b.csv",
        shuffled,
        as_of=T0,
        seed=7,
        variants={"A": "script-payroll", "B": "script-dormant-reactivation"},
    )
    other = make_campaign(sessions, settings, tmp_path / "c.csv", rows, as_of=T0, seed=8)
    a, b, c = (_rows(sessions, x.campaign_id) for x in (first, again, other))
    assert {k: r.arm for k, r in a.items()} == {k: r.arm for k, r in b.items()}
    assert {k: r.arm for k, r in a.items()} != {k: r.arm for k, r in c.items()}
    strata: dict[tuple[str | None, str], Counter[str | None]] = defaultdict(Counter)
    for r in a.values():
        strata[(r.segment, r.aum_band)][r.arm] += 1
    for counts in strata.values():
        size = sum(counts.values())
        assert counts["control"] == int(size * 0.2 + 0.5)
        assert abs(counts["A"] - counts["B"]) <= 1
    assert {r.script_id for r in a.values() if r.arm == "A"} == {"script-payroll-zh"}
    assert all(r.call_state == "none" and r.next_call_at is None for r in a.values() if r.arm == "control")


def test_unapproved_script_is_refused(sessions: sessionmaker[Session], settings: Settings, tmp_path: Path) -> None:
    with pytest.raises(InputError, match="not approved"):
        make_campaign(sessions, settings, tmp_path / "c.csv", [client("x")], as_of=T0, variants={"A": "script-nope"})
    with pytest.raises(InputError, match="reserved"):
        make_campaign(sessions, settings, tmp_path / "c.csv", [client("x")], as_of=T0, variants={"control": "x"})
