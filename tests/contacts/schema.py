"""Build a test database through the real Alembic migrations (bot.db.migrate), as the app does."""

from __future__ import annotations

from pathlib import Path
from typing import TextIO

from alembic import command
from alembic.config import Config
from alembic.util import CommandError

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
    """migrate(url); while another domain's new revision is not yet chained after ours (two heads),
    upgrade to this domain's revision only, so these tests don't depend on others' work in progress."""
    try:
        migrate(url)
    except CommandError as exc:
        if "Multiple head revisions" not in str(exc):
            raise
        command.upgrade(alembic_config(url), REVISION)
