"""GET /api/analytics/turns: per-turn intent, confidence, channel and actions (leads API key)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from bot.deps import SettingsDep, require_api_key
from bot.dialogue import analytics

router = APIRouter(prefix="/api/analytics", tags=["analytics"], dependencies=[Depends(require_api_key)])


@router.get("/turns")
def list_turns(
    settings: SettingsDep,
    since: datetime | None = None,
    channel: str | None = None,
    intent: str | None = None,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 1000,
) -> dict[str, Any]:
    """Plain `def`: the tracker store is read in FastAPI's thread pool."""
    url = settings.tracker_store_url
    if url is None:
        return {"turns": []}
    engine = analytics.tracker_engine(url)
    try:
        rows = analytics.turns(engine, since=since, channel=channel, intent=intent, limit=limit)
    finally:
        engine.dispose()
    return {"turns": [t.as_json() for t in rows]}
