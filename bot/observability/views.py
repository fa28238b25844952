"""GET /metrics: the Prometheus text exposition of this app instance's registry."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request, status
from fastapi.responses import Response

from bot.observability.metrics import CONTENT_TYPE, Metrics

router = APIRouter(tags=["observability"])


@router.get("/metrics", include_in_schema=False)
def metrics(request: Request) -> Response:
    """Plain `def`: the leads collector queries the database, so this runs in the thread pool.

    Open by default (scrapers sit on the bank's network); with console.metrics_require_key a console
    API key (X-API-Key) is required.
    """
    settings = request.app.state.settings
    if settings.console.metrics_require_key:
        key = request.headers.get("x-api-key") or ""
        if not key or request.app.state.console_auth.from_api_key(key) is None:
            raise HTTPException(
                status.HTTP_401_UNAUTHORIZED, "X-API-Key required", headers={"WWW-Authenticate": "APIKey"}
            )
    registry: Metrics = request.app.state.metrics
    return Response(registry.render(), media_type=CONTENT_TYPE, headers={"Cache-Control": "no-store"})
