"""Build a test database through the real Alembic migrations (bot.db.migrate), as the app does."""

from __future__ import annotations

from pathlib import Path
from typing import Any, TextIO

from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from sqlalchemy import inspect

import bot.db
from bot.db import Base, make_engine, migrate
from bot.models_registry import import_all_models

REVISION = "0001_leads_contacts"


def alembic_config(url: str, output: TextIO | None = None) -> Config:
    """The same configuration bot.db.migrate builds (`output` receives offline SQL)."""
    config = Config(output_buffer=output)
    config.set_main_option("script_location", str(Path(bot.db.__file__).parent / "migrations"))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def build_schema(url: str) -> None:
    """The app's own migration path."""
    migrate(url)


def migrated_schema(url: str) -> tuple[set[str], list[Any]]:
    """Migrate `url` to head; then its tables, and how it differs from what every model declares."""
    migrate(url)
    import_all_models()
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            diffs = compare_metadata(MigrationContext.configure(connection, opts={"compare_type": True}), Base.metadata)
            return set(inspect(connection).get_table_names()), diffs
    finally:
        engine.dispose()
