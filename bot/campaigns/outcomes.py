"""Post-campaign activity for BOTH arms (`advisor campaign outcomes ID --file activity.csv`).

File format (UTF-8 CSV, header row):

    client_id,activity_date,purchased,aum_increase
    C0001,2026-12-12,yes,50000
    C0002,2026-12-15,no,

`client_id` and `activity_date` (YYYY-MM-DD) are required; every other column is an outcome named by
its header (lower-case letters, digits, `_`). Values: yes/no, true/false, 1/0, or a number; empty
means "nothing recorded". An outcome counts as converted when its value is > 0. Re-importing the same
file changes nothing (one value per campaign, client, outcome, date and source; the first one wins).
Imported values have source `imported`; `record_outcome` stores attributed ones (source `callback`),
and outcomes.yml says which sources each side of the comparison counts.
"""

from __future__ import annotations

import csv
import re
from datetime import date
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from bot.campaigns.models import CampaignClient, CampaignOutcome, OutcomeSource
from bot.campaigns.service import get_campaign
from bot.db import utcnow
from bot.errors import InputError

_NAME = re.compile(r"[a-z_][a-z0-9_]{0,63}")
_TRUE, _FALSE = frozenset({"yes", "y", "true", "1", "是"}), frozenset({"no", "n", "false", "0", "否"})
_CHUNK = 500


class OutcomeImport(BaseModel):
    """What an outcomes import did; rejected rows carry their reasons."""

    campaign_id: int
    rows: int = 0
    values_new: int = 0
    values_already_imported: int = 0
    outcomes: list[str] = Field(default_factory=list)
    rejected: list[dict[str, Any]] = Field(default_factory=list)


def _value(text: str) -> float | None:
    lowered = text.strip().lower()
    if lowered in _TRUE:
        return 1.0
    if lowered in _FALSE:
        return 0.0
    number = float(lowered.replace(",", ""))
    if number != number or number in (float("inf"), float("-inf")):
        raise ValueError(text)
    return number


def import_outcomes(session: Session, *, campaign_id: int, path: Path) -> OutcomeImport:
    """Read the activity file and store each value; unknown clients and bad values are reported per row."""
    get_campaign(session, campaign_id)
    known = set(
        session.scalars(
            select(CampaignClient.client_id).where(
                CampaignClient.campaign_id == campaign_id, CampaignClient.status != "rejected"
            )
        )
    )
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            records = list(csv.reader(handle))
    except UnicodeDecodeError as exc:
        raise InputError(f"{path.name} is not UTF-8 text; save it as UTF-8") from exc
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror}") from exc
    if not records:
        raise InputError("the activity file is empty (expected: client_id,activity_date,<outcome>...)")
    header = [h.strip().lower() for h in records[0]]
    if header[:2] != ["client_id", "activity_date"] or len(header) < 3:
        raise InputError("the activity file must start with client_id,activity_date and name at least one outcome")
    names = header[2:]
    bad = [n for n in names if not _NAME.fullmatch(n)]
    if bad or len(set(names)) != len(names):
        raise InputError(f"outcome column names must be unique lower-case identifiers (got {names})")
    report = OutcomeImport(campaign_id=campaign_id, outcomes=names)
    values: list[dict[str, Any]] = []
    now = utcnow()
    for row_no, record in enumerate(records[1:], start=2):
        if not any(cell.strip() for cell in record):
            continue
        report.rows += 1
        problems: list[str] = []
        cells = (record + [""] * len(header))[: len(header)]
        client_id = cells[0].strip()
        if client_id not in known:
            problems.append("unknown_client")
        try:
            day = date.fromisoformat(cells[1].strip())
        except ValueError:
            problems.append("bad_date")
        parsed: list[tuple[str, float]] = []
        for name, cell in zip(names, cells[2:], strict=True):
            if not cell.strip():
                continue
            try:
                value = _value(cell)
            except ValueError:
                problems.append(f"bad_value:{name}")
                continue
            if value is not None:
                parsed.append((name, value))
        if problems:
            report.rejected.append({"row": row_no, "client_id": client_id, "reasons": problems})
            continue
        values.extend(
            {"campaign_id": campaign_id, "client_id": client_id, "name": name, "activity_date": day,
             "value": value, "source": "imported", "imported_at": now}
            for name, value in parsed
        )  # fmt: skip
    for start in range(0, len(values), _CHUNK):
        chunk = values[start : start + _CHUNK]
        inserted = _insert_new(session, chunk)
        report.values_new += inserted
        report.values_already_imported += len(chunk) - inserted
    return report


def record_outcome(
    session: Session,
    *,
    campaign_id: int,
    client_id: str,
    name: str,
    activity_date: date,
    value: float = 1.0,
    source: OutcomeSource = "callback",
) -> bool:
    """Store one attributed outcome (e.g. `wecom_added` from a WeCom callback); True when it was new.

    Idempotent like the import: the same campaign, client, outcome, date and source is stored once.
    """
    if not _NAME.fullmatch(name):
        raise InputError(f"outcome name {name!r} must be a lower-case identifier")
    known = session.scalar(
        select(CampaignClient.id).where(
            CampaignClient.campaign_id == campaign_id,
            CampaignClient.client_id == client_id,
            CampaignClient.status != "rejected",
        )
    )
    if known is None:
        raise InputError(f"client {client_id!r} is not in campaign {campaign_id}")
    row = {"campaign_id": campaign_id, "client_id": client_id, "name": name, "activity_date": activity_date,
           "value": float(value), "source": source, "imported_at": utcnow()}  # fmt: skip
    return _insert_new(session, [row]) == 1


def _insert_new(session: Session, rows: list[dict[str, Any]]) -> int:
    """Multi-row INSERT ... ON CONFLICT DO NOTHING; returns how many rows were new."""
    dialect = session.get_bind().dialect.name
    if dialect not in {"sqlite", "postgresql"}:
        raise NotImplementedError(f"outcome import supports SQLite and PostgreSQL, not {dialect}")
    module: Any = sqlite if dialect == "sqlite" else postgresql
    stmt = module.insert(CampaignOutcome.__table__).values(rows).on_conflict_do_nothing().returning(CampaignOutcome.id)
    return len(session.execute(stmt).all())  # RETURNING, not rowcount: -1 for INSERTs on psycopg 3
