"""Imports every domain's table module so Base.metadata is complete (for Alembic and create_all)."""

from __future__ import annotations

import importlib

# Each domain (and channel with tables) adds its table module here.
MODEL_MODULES: tuple[str, ...] = (
    "bot.contacts.models",
    "bot.leads.models",
    "bot.roleplay.models",
    "bot.campaigns.models",
    "bot.console.models",
    "bot.advisor_links.models",
    "bot.messaging.models",
    "bot.channels.wecom.tables",
    "bot.dialogue.rate_limits",
)


def import_all_models() -> None:
    for name in MODEL_MODULES:
        importlib.import_module(name)
