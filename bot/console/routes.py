"""Every console router, so the app includes them in one loop (pages, JSON APIs, the campaign board)."""

from __future__ import annotations

from fastapi import APIRouter

from bot.console import api, campaigns, optouts, views

ROUTERS: tuple[APIRouter, ...] = (
    views.router,
    api.router,
    campaigns.router,
    campaigns.api,
    optouts.router,
    optouts.api,
)
