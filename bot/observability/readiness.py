"""Readiness for load balancers: GET /readyz is 200 only when this process can serve a chat turn.

/healthz stays a liveness check (the process answers, with what it knows about Rasa). /readyz answers
503 until the dialogue engine (a Rasa replica with a model loaded, and this process's own Rasa child,
if it supervises one, up) and the knowledge base (its store open and the approved content loaded) are
ready here, so a balancer sends chats only to processes that will not answer them with 503.
"""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from bot.errors import DialogueUnavailable

router = APIRouter(tags=["operations"])


async def _dialogue(state: Any) -> dict[str, Any]:
    supervisor = getattr(state, "rasa_supervisor", None)
    engine = getattr(state, "rasa_client", None)
    if supervisor is not None and supervisor.state != "up":
        return {"ready": False, "state": supervisor.state}
    if engine is None:
        return {"ready": False, "state": "starting"}
    try:
        status = await engine.status()
    except DialogueUnavailable as exc:
        return {"ready": False, "error": str(exc)}
    return {"ready": bool(status.get("model_file")), **status}


async def _knowledge(state: Any) -> dict[str, Any]:
    answerer = getattr(state, "knowledge", None)
    if answerer is None:
        return {"ready": False, "state": "starting"}
    ready = getattr(answerer, "ready", None)  # answerers without a store (test fakes) are always ready
    return {"ready": True if ready is None else await asyncio.to_thread(ready)}


@router.get("/readyz", responses={503: {"description": "not ready: dialogue engine or knowledge base"}})
async def readyz(request: Request) -> JSONResponse:
    """200 {"status": "ready"} when both parts are ready, else 503 saying which is not."""
    dialogue, knowledge = await asyncio.gather(_dialogue(request.app.state), _knowledge(request.app.state))
    ready = dialogue["ready"] and knowledge["ready"]
    return JSONResponse(
        status_code=200 if ready else 503,
        content={"status": "ready" if ready else "not_ready", "dialogue": dialogue, "knowledge": knowledge},
    )
