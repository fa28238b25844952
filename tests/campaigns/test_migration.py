"""0004_campaigns creates exactly what bot/campaigns/models.py declares (SQLite), and renders for PostgreSQL."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from alembic import command

from bot.db import make_engine, migrate
from tests.contacts.schema import alembic_config, migrated_schema

OURS = {"campaigns", "campaign_clients", "campaign_attempts", "campaign_outcomes"}


def _table(diff: Any) -> str | None:
    item = diff[0] if isinstance(diff, list) else diff
    obj = item[1] if len(item) > 1 else None
    return getattr(getattr(obj, "table", obj), "name", None)


def test_migration_matches_the_models(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    tables, diffs = migrated_schema(url)
    assert tables >= OURS
    assert [d for d in diffs if _table(d) in OURS] == []


def test_postgresql_offline_sql() -> None:
    out = io.StringIO()
    command.upgrade(alembic_config("postgresql+psycopg://u@db.example/advisor", out), "0004_campaigns", sql=True)
    sql = out.getvalue()
    assert "CREATE TABLE campaign_attempts" in sql
    assert "next_call_at TIMESTAMP WITH TIME ZONE" in sql
    assert "CONSTRAINT uq_campaign_attempts_idempotency_key UNIQUE (idempotency_key)" in sql


def test_0005_keeps_old_data_meaningful(tmp_path: Path) -> None:
    """A database from before 0005: the old final status "done" becomes "completed", every recorded refusal
    gets its register entry (with the number its client blocked later), imported outcomes keep counting."""
    from sqlalchemy import text

    url = f"sqlite:///{tmp_path / 'old.db'}"
    command.upgrade(alembic_config(url), "0004_campaigns")
    engine = make_engine(url)
    try:
        with engine.begin() as db:
            db.execute(text(
                "INSERT INTO campaigns (id, name, status, seed, control_share, variants, rules, summary, source_file,"
                " created_at, planned_at) VALUES (1, 'old', 'done', 1, 0.2, '{}', '{}', '{}', '-', :t, :t),"
                " (2, 'new', 'planned', 1, 0.2, '{}', '{}', '{}', '-', :t, :t)"
            ), {"t": "2026-01-01 00:00:00"})  # fmt: skip
            db.execute(text(
                "INSERT INTO do_not_contact (key_kind, key_value, client_key, phone, channel, evidence, opted_out_at)"
                " VALUES ('client', 'web:a', 'web:a', NULL, 'web', '别发了', :t),"
                " ('phone', '+8613812345678', 'web:a', '+8613812345678', 'voice', '别打了', :t),"
                " ('client', 'C1', 'C1', '+85291234567', 'voice', 'no', :t),"
                " ('phone', '+85291234567', 'C1', '+85291234567', 'voice', 'no', :t)"
            ), {"t": "2026-01-02 00:00:00"})  # fmt: skip
            db.execute(text(
                "INSERT INTO campaign_outcomes (campaign_id, client_id, name, activity_date, value, imported_at)"
                " VALUES (1, 'C1', 'purchased', '2026-01-05', 1, :t)"
            ), {"t": "2026-01-06 00:00:00"})  # fmt: skip
        migrate(url)
        with engine.connect() as db:
            statuses = dict(db.execute(text("SELECT id, status FROM campaigns")).all())
            register = db.execute(text("SELECT client_key, phone, recorded_by FROM opt_outs ORDER BY id")).all()
            sources = db.execute(text("SELECT source FROM campaign_outcomes")).scalars().all()
    finally:
        engine.dispose()
    assert statuses == {1: "completed", 2: "planned"}
    assert [tuple(r) for r in register] == [("web:a", "+8613812345678", "dialogue"), ("C1", "+85291234567", "voice")]
    assert sources == ["imported"]
