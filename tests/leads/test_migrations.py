"""The Alembic migration matches the models, and PostgreSQL-style URLs and SQL work without a server."""

from __future__ import annotations

import io
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.sql import ClauseElement

from bot.contacts.models import DoNotContact
from bot.contacts.portable import insert_or_ignore
from bot.db import Base, make_engine
from bot.leads.models import OPEN_LEAD, Lead
from bot.models_registry import import_all_models
from bot.settings import load_settings
from tests.contacts.schema import REVISION, alembic_config, build_schema

OURS = {"leads", "lead_outbox", "do_not_contact", "risk_profiles", "opt_outs"}
PG_URL = "postgresql+psycopg://advisor:p%40ss%25word@db.example:5432/advisor"


def test_the_migration_creates_exactly_what_the_models_declare(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    build_schema(url)
    import_all_models()
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            assert set(inspect(connection).get_table_names()) >= OURS
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            diffs = compare_metadata(context, Base.metadata)
    finally:
        engine.dispose()

    def table_of(diff: Any) -> str | None:
        item = diff[0] if isinstance(diff, list) else diff
        obj = item[1] if len(item) > 1 else None
        table = getattr(obj, "table", obj)
        return getattr(table, "name", None)

    assert [d for d in diffs if table_of(d) in OURS] == []


def test_postgresql_gets_the_same_schema_as_sql(tmp_path: Path) -> None:
    """Offline migration for a PostgreSQL URL (with a %-escaped password, as bot.db.migrate passes it)."""
    out = io.StringIO()
    command.upgrade(alembic_config(PG_URL, out), REVISION, sql=True)
    sql = out.getvalue()
    assert (
        "CREATE UNIQUE INDEX uq_leads_open_client_type_product ON leads (client_key, type, product_code) "
        "WHERE status IN ('new', 'contacted')" in sql
    )
    assert "opted_out_at TIMESTAMP WITH TIME ZONE NOT NULL" in sql
    assert "answers JSON NOT NULL" in sql
    assert "sqlite" not in sql.lower()


def test_a_postgresql_url_is_used_as_given() -> None:
    assert load_settings(database={"url": PG_URL}).database_url == PG_URL
    assert load_settings(data_dir="/tmp/x").database_url == "sqlite:////tmp/x/advisor.db"


class _FakeSession:
    """Enough of a Session to see the SQL insert_or_ignore would send to a given database."""

    def __init__(self, dialect: Any) -> None:
        self.dialect = dialect
        self.sql: list[str] = []

    def get_bind(self) -> SimpleNamespace:
        return SimpleNamespace(dialect=self.dialect)

    def execute(self, statement: ClauseElement) -> SimpleNamespace:
        self.sql.append(str(statement.compile(dialect=self.dialect)))
        return SimpleNamespace(first=lambda: (1,))  # the row RETURNING gives back for an insert


def test_the_dedup_insert_is_valid_on_both_databases() -> None:
    values = {
        "client_key": "c", "sender_id": "s", "channel": "web", "conversation_id": "s", "type": "complaint",
        "intent": "complain", "confidence": None, "product_code": "", "score": 80.0, "evidence": "e",
        "summary": None, "callback_at": None, "advisor_id": None, "status": "new",
    }  # fmt: skip
    for dialect in (postgresql.dialect(), sqlite.dialect()):
        session = _FakeSession(dialect)
        conflict = ("client_key", "type", "product_code")
        assert insert_or_ignore(session, Lead, values, conflict=conflict, where=OPEN_LEAD)  # type: ignore[arg-type]
        assert insert_or_ignore(session, DoNotContact, {"key_kind": "client"}, conflict=("key_kind", "key_value"))  # type: ignore[arg-type]
        lead_sql, dnc_sql = session.sql
        assert (
            "ON CONFLICT (client_key, type, product_code) WHERE status IN ('new', 'contacted') DO NOTHING" in lead_sql
        )
        assert "ON CONFLICT (key_kind, key_value) DO NOTHING" in dnc_sql
