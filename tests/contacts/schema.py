"""Build a test database through the real Alembic migrations (bot.db.migrate), as the app does."""

from __future__ import annotations

from pathlib import Path
from typing import TextIO

from alembic.config import Config

import bot.db
from bot.db import migrate

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
