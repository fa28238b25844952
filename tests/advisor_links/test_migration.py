"""0007_wecom_links creates exactly what the advisor-link and messaging models declare, and goes back down."""

from __future__ import annotations

import io
from pathlib import Path

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from bot.db import Base, make_engine, migrate
from bot.models_registry import import_all_models
from tests.contacts.schema import alembic_config

OURS = {"wecom_contact_ways", "wecom_friend_adds", "text_messages"}


def test_the_migration_matches_the_models_and_downgrades(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    migrate(url)
    import_all_models()
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            assert set(inspect(connection).get_table_names()) >= OURS
            diffs = compare_metadata(MigrationContext.configure(connection, opts={"compare_type": True}), Base.metadata)
        assert diffs == []
        command.downgrade(alembic_config(url), "0006_security")
        with engine.connect() as connection:
            assert not OURS & set(inspect(connection).get_table_names())
    finally:
        engine.dispose()
    migrate(url)  # and up again


def test_postgresql_offline_sql() -> None:
    out = io.StringIO()
    command.upgrade(alembic_config("postgresql+psycopg://u@db.example/advisor", out), "0007_wecom_links", sql=True)
    sql = out.getvalue()
    assert "CREATE TABLE wecom_contact_ways" in sql and "CONSTRAINT uq_wecom_contact_ways_config_id UNIQUE" in sql
    assert "CONSTRAINT uq_text_messages_idempotency_key UNIQUE (idempotency_key)" in sql
    assert "consent_at TIMESTAMP WITH TIME ZONE NOT NULL" in sql
