"""Alembic environment: the URL comes from the caller (bot.db.migrate), models from every domain."""

from __future__ import annotations

from alembic import context

from bot.db import Base, make_engine
from bot.models_registry import import_all_models

import_all_models()
target_metadata = Base.metadata
url = context.config.get_main_option("sqlalchemy.url") or ""

if context.is_offline_mode():
    context.configure(url=url, target_metadata=target_metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()
else:
    engine = make_engine(url)
    with engine.connect() as connection:
        context.configure(
            connection=connection, target_metadata=target_metadata, render_as_batch=url.startswith("sqlite")
        )
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()
