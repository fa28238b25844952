"""0009_wecom_channel puts the WeCom tables in the app database: exactly what bot/channels/wecom/tables.py
declares, from the previous head, kept (with their rows) where the old store had created them itself, and
gone again on the way down. The store works on a database only Alembic built, and refuses one without them."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import MetaData, inspect

from bot.channels.wecom.store import PageMessage, WeComStore
from bot.channels.wecom.tables import TABLES
from bot.db import Base, make_engine, migrate
from bot.errors import ConfigError
from tests.contacts.schema import alembic_config, migrated_schema

OURS = {table.name for table in TABLES}
REVISION, PREVIOUS = "0009_wecom_channel", "0008_console_login_failures"


def _tables(url: str) -> set[str]:
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            return set(inspect(connection).get_table_names())
    finally:
        engine.dispose()


def old_store_tables(url: str) -> None:
    """The WeCom tables as the store used to create them before 0009: create_all on its own metadata, with
    no naming convention (the database names the primary keys and unique constraints)."""
    old = MetaData()
    for table in TABLES:
        for constraint in table.to_metadata(old).constraints:
            constraint.name = None
    engine = make_engine(url)
    old.create_all(engine)
    engine.dispose()


def test_the_migration_matches_the_tables_and_the_models(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    tables, diffs = migrated_schema(url)
    assert {table.name for table in TABLES} <= set(Base.metadata.tables)  # Alembic sees them
    assert tables >= OURS
    assert diffs == []


async def test_from_the_previous_head_the_store_works_and_down_again(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'app.db'}"
    config = alembic_config(url)
    command.upgrade(config, PREVIOUS)
    assert not OURS & _tables(url)
    store = WeComStore(url)
    with pytest.raises(ConfigError, match="no WeCom tables"):
        await store.open()  # never creates them itself
    migrate(url)
    await store.open()
    assert await store.claim("msg:1", now=1) and not await store.claim("msg:1", now=2)
    await store.save_page("wk1", cursor="c1", messages=[PageMessage("m1", "wm1", "{}")], now=1)
    assert await store.take_sync("wk1", owner="p1", now=1, ttl_s=120)
    assert [r.msgid for r in await store.pending("wk1")] == ["m1"] and await store.cursor("wk1") == "c1"
    await store.aclose()
    command.downgrade(config, PREVIOUS)
    assert not OURS & _tables(url)
    migrate(url)  # and up again
    assert _tables(url) >= OURS


async def test_tables_the_old_store_made_in_the_app_database_are_kept(tmp_path: Path) -> None:
    """channels.wecom.database_url named the app database (deploy/compose.scale.yml did): nothing is lost."""
    url = f"sqlite:///{tmp_path / 'shared.db'}"
    command.upgrade(alembic_config(url), PREVIOUS)
    old_store_tables(url)
    store = WeComStore(url)
    await store.save_page("wk1", cursor="c7", messages=[PageMessage("m1", "wm1", "{}")], now=1)
    migrate(url)
    await store.open()
    assert await store.cursor("wk1") == "c7" and [r.msgid for r in await store.pending("wk1")] == ["m1"]
    await store.aclose()


def test_postgresql_offline_sql() -> None:
    out = io.StringIO()
    command.upgrade(alembic_config("postgresql+psycopg://u@db.example/advisor", out), REVISION, sql=True)
    sql = out.getvalue()
    for table in OURS:
        assert f"CREATE TABLE {table} " in sql
    assert "CONSTRAINT uq_wecom_kf_inbox_msgid UNIQUE (msgid)" in sql
    assert "CONSTRAINT pk_wecom_kf_client PRIMARY KEY (open_kfid, external_userid)" in sql
    assert "CREATE INDEX ix_wecom_kf_inbox_pending ON wecom_kf_inbox (open_kfid, done_at)" in sql
    assert "seq SERIAL NOT NULL" in sql and "human BOOLEAN NOT NULL" in sql
