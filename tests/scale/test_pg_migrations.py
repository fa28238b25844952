"""The Alembic migrations on a real PostgreSQL server: from an empty database to head, from the previous
head (with data in it) to head, down to the previous head and to nothing, and up again; at head the
schema is exactly what the models declare."""

from __future__ import annotations

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text

from bot.db import Base, make_engine, migrate
from bot.models_registry import import_all_models
from tests.contacts.schema import alembic_config, migrated_schema
from tests.support.postgres import PostgresServer
from tests.wecom.test_migration import old_store_tables

pytestmark = pytest.mark.pg


def _heads(url: str) -> tuple[str, str]:
    """(head, the revision before it), read from the scripts: a new migration needs no test change."""
    script = ScriptDirectory.from_config(alembic_config(url))
    head = script.get_revision(script.get_current_head())
    assert head is not None and isinstance(head.down_revision, str)
    return head.revision, head.down_revision


def _revision(url: str) -> str | None:
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    finally:
        engine.dispose()


def test_from_empty_to_head_matches_the_models(postgres: PostgresServer) -> None:
    url = postgres.database("empty")
    assert url.startswith("postgresql")
    tables, diffs = migrated_schema(url)
    assert diffs == []
    assert {
        "leads",
        "opt_outs",
        "do_not_contact",
        "console_sessions",
        "wecom_kf_cursor",
        "wecom_kf_sync_lease",
    } <= tables
    assert _revision(url) == _heads(url)[0]


def test_wecom_tables_the_old_store_made_in_the_app_database_are_kept_and_renamed(postgres: PostgresServer) -> None:
    """Before 0009 the WeCom store created its own tables (PostgreSQL named their constraints); where
    channels.wecom.database_url was the app database (deploy/compose.scale.yml) 0009 keeps them and their
    rows and gives the constraints our names: the schema is then exactly a fresh one."""
    url = postgres.database("adopt")
    command.upgrade(alembic_config(url), "0008_console_login_failures")
    old_store_tables(url)
    engine = make_engine(url)
    try:
        with engine.begin() as connection:
            connection.execute(text("INSERT INTO wecom_kf_cursor VALUES ('wk1', 'c9', 1)"))
            assert inspect(connection).get_pk_constraint("wecom_kf_cursor")["name"] == "wecom_kf_cursor_pkey"
        migrate(url)
        import_all_models()
        with engine.connect() as connection:
            diffs = compare_metadata(MigrationContext.configure(connection, opts={"compare_type": True}), Base.metadata)
            cursor = connection.execute(text("SELECT cursor FROM wecom_kf_cursor")).scalar_one()
            unique = inspect(connection).get_unique_constraints("wecom_kf_inbox")
    finally:
        engine.dispose()
    assert diffs == [] and cursor == "c9"
    assert [u["name"] for u in unique] == ["uq_wecom_kf_inbox_msgid"]


def test_from_the_previous_head_with_data_and_back_down(postgres: PostgresServer) -> None:
    url = postgres.database("previous")
    head, previous = _heads(url)
    config = alembic_config(url)
    command.upgrade(config, previous)
    engine = make_engine(url)
    try:
        with engine.begin() as connection:  # a lead written under the previous schema survives the upgrade
            connection.execute(
                text(
                    "INSERT INTO leads (client_key, sender_id, channel, conversation_id, type, intent, confidence,"
                    " product_code, score, status, evidence, created_at, updated_at)"
                    " VALUES ('c-1', 's-1', 'web', 's-1', 'product_interest', 'ask_product', 0.9, 'WM001', 60,"
                    " 'new', 'x', now(), now())"
                )
            )
        migrate(url)
        assert _revision(url) == head
        with engine.connect() as connection:
            assert connection.execute(text("SELECT count(*) FROM leads")).scalar_one() == 1
        command.downgrade(config, previous)
        assert _revision(url) == previous
        command.downgrade(config, "base")
        with engine.connect() as connection:
            assert set(inspect(connection).get_table_names()) <= {"alembic_version"}
        migrate(url)  # and up again from nothing
        assert _revision(url) == head
    finally:
        engine.dispose()
