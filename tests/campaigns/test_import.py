"""The client file: a validation verdict for every row, nothing silently dropped."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.campaigns.importer import COLUMNS, read_rows, valid_e164
from bot.campaigns.models import CampaignClient
from bot.errors import InputError
from bot.settings import Settings
from tests.campaigns.conftest import T0
from tests.campaigns.fakes import client, make_campaign

BANDS = ("low", "medium", "high", "very_high")
HEADER = ",".join(COLUMNS)


def _read(*lines: str) -> list[tuple[str, ...]]:
    return read_rows([HEADER, *lines], today=date(2026, 12, 1), aum_bands=BANDS).problems


def _codes(problems: tuple[str, ...]) -> tuple[str, ...]:
    """The machine part of each reason ("code: what was wrong (allowed values)")."""
    return tuple(p.split(":", 1)[0] for p in problems)


@pytest.mark.parametrize(
    ("phone", "ok"),
    [("+85291234567", True), ("+8613812345678", True), ("+86138123456789", False), ("13812345678", False),
     ("+0123456789", False), ("+1234567", False), ("+1234567890123456", False), ("+44 7700 900123", False)],
)  # fmt: skip
def test_e164_is_strict(phone: str, ok: bool) -> None:
    assert valid_e164(phone) is ok


def test_each_bad_row_gets_its_reasons() -> None:
    problems = _read(
        "c1,张三,+85291234567,zh,yes,2025-01-01,2025-06-01,high,15,C3,vip,A1",
        "c2,李四,12345,zh,yes,2025-01-01,2025-06-01,high,,C3,,A1",
        "c3,王五,+85291234568,zh,,2025-01-01,2025-06-01,high,,C3,,A1",
        "c1,赵六,+85291234569,zh,yes,2025-01-01,2025-06-01,high,,C3,,A1",
        "c5,钱七,+85291234567,zh,yes,2025-01-01,2025-06-01,high,,C3,,A1",
        "c6,孙八,+85291234570,fr,yes,2025-13-01,2027-01-01,huge,32,C9,,A1",
        "c7,周九,+85291234571,en,yes,,2025-06-01,low,,,,",
        "c8,吴十,+85291234572,en,no,,2025-06-01,low,,,,",
        "c9,短行,+85291234573",
    )
    assert problems[0] == ()
    assert _codes(problems[1]) == ("bad_phone",)
    assert _codes(problems[2]) == ("missing_consent",)
    assert problems[3] == ("duplicate_client_id: same client_id as row 2",)
    assert problems[4] == ("duplicate_phone: same phone as row 2",)
    assert set(_codes(problems[5])) == {
        "bad_language", "bad_date", "future_date", "bad_aum_band", "bad_payroll_day", "bad_risk_level",
    }  # fmt: skip
    assert _codes(problems[6]) == ("missing_consent_date",)
    assert problems[7] == ()  # refusing consent is valid input: eligibility excludes it
    assert problems[8][0] == "bad_row: 3 fields, expected 12 like the header"


def test_every_row_error_names_what_is_allowed() -> None:
    """A person fixing the file reads the reason: it says what was wrong and what would be right."""
    problems = _read(
        "c6,孙八,+85291234570,fr,ja,2025-13-01,2027-01-01,huge,32,C9,,A1",
        "c7,周九,85291234571,en,,,2025-06-01,low,,,,",
    )
    reasons = dict(p.split(": ", 1) for p in (*problems[0], *problems[1]))
    assert reasons["bad_language"] == "'fr' (allowed: zh, en)"
    assert reasons["bad_consent"] == "consent_call 'ja' (allowed: yes, no, y, n, 是, 否)"
    assert reasons["bad_date"] == "consent_date '2025-13-01' (expected YYYY-MM-DD)"
    assert reasons["future_date"] == "last_activity_date '2027-01-01' (after today, 2026-12-01)"
    assert reasons["bad_aum_band"] == "'huge' (allowed: low, medium, high, very_high)"
    assert reasons["bad_payroll_day"] == "'32' (allowed: 1-31, or empty)"
    assert reasons["bad_risk_level"] == "'C9' (allowed: C1-C5, or empty)"
    assert "+8613812345678" in reasons["bad_phone"] and "E.164" in reasons["bad_phone"]
    assert "yes, no" in reasons["missing_consent"]
    assert all(";" not in p for p in (*problems[0], *problems[1]))  # ';' separates a stored row's reasons


def test_missing_column_or_empty_file_fails_the_whole_file() -> None:
    with pytest.raises(InputError, match="lacks column"):
        read_rows(["client_id,name", "c1,x"], today=date(2026, 12, 1), aum_bands=BANDS)
    with pytest.raises(InputError, match="empty"):
        read_rows([], today=date(2026, 12, 1), aum_bands=BANDS)


def test_rejected_rows_are_stored_with_reasons(
    sessions: sessionmaker[Session], settings: Settings, tmp_path: Path
) -> None:
    rows = [client("ok"), client("bad", phone="0852-9123"), client("ok", phone="+85299999999")]
    created = make_campaign(sessions, settings, tmp_path / "c.csv", rows, as_of=T0)
    assert created.summary["rows"] == 3 and created.summary["rejected"] == 2
    assert [[r.split(":")[0] for r in row["reasons"]] for row in created.rejected_rows] == [
        ["bad_phone"], ["duplicate_client_id"]
    ]  # fmt: skip
    with sessions() as session:
        stored = session.scalars(
            select(CampaignClient)
            .where(CampaignClient.campaign_id == created.campaign_id)
            .order_by(CampaignClient.row_no)
        ).all()
    assert [(r.client_id, r.status, r.reasons, r.phone) for r in stored] == [
        ("ok", "eligible", "", "+85291234567"),
        ("bad", "rejected", created.rejected_rows[0]["reasons"][0], "0852-9123"),
        ("ok", "rejected", "duplicate_client_id: same client_id as row 2", "+85299999999"),
    ]
