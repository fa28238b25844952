"""0004_campaigns creates exactly what bot/campaigns/models.py declares (SQLite), and renders for PostgreSQL."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from bot.db import Base, make_engine, migrate
from bot.models_registry import import_all_models
from tests.contacts.schema import alembic_config

OURS = {"campaigns", "campaign_clients", "campaign_attempts", "campaign_outcomes"}


def _table(diff: Any) -> str | None:
    item = diff[0] if isinstance(diff, list) else diff
    obj = item[1] if len(item) > 1 else None
    return getattr(getattr(obj, "table", obj), "name", None)


def test_migration_matches_the_models(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    migrate(url)
    import_all_models()
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            assert set(inspect(connection).get_table_names()) >= OURS
            diffs = compare_metadata(MigrationContext.configure(connection, opts={"compare_type": True}), Base.metadata)
    finally:
        engine.dispose()
    assert [d for d in diffs if _table(d) in OURS] == []


def test_postgresql_offline_sql() -> None:
    out = io.StringIO()
    command.upgrade(alembic_config("postgresql+psycopg://u@db.example/advisor", out), "0004_campaigns", sql=True)
    sql = out.getvalue()
    assert "CREATE TABLE campaign_attempts" in sql
    assert "next_call_at TIMESTAMP WITH TIME ZONE" in sql
    assert "CONSTRAINT uq_campaign_attempts_idempotency_key UNIQUE (idempotency_key)" in sql
