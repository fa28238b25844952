"""Rasa's action-server contract on FastAPI: POST /webhook, GET /actions.

Mirrors rasa_sdk.endpoint: deflate bodies accepted, 400 {"error","action_name"} on rejection,
404 for an unknown action. Only our Rasa may call it: every request must carry the shared secret
(settings.rasa.action_secret) in the X-Action-Secret header, which Rasa sends from endpoints.yml's
`action_endpoint.headers`; anything else gets a 401 before the body is read.
"""

from __future__ import annotations

import hmac
import json
import logging
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import JSONResponse
from rasa_sdk.interfaces import ActionExecutionRejection, ActionNotFoundException

from bot.actions import ACTION_SECRET_HEADER
from bot.deps import ActionExecutorDep
from bot.limits import inflate
from bot.observability.logging import bind_request_id, clean_request_id

logger = logging.getLogger(__name__)


def require_rasa(request: Request) -> None:
    """401 unless the request carries the action secret (constant-time comparison); no secret: closed."""
    expected: bytes | None = getattr(request.app.state, "action_secret", None)
    given = request.headers.get(ACTION_SECRET_HEADER, "").encode("utf-8")
    if not expected or not hmac.compare_digest(given, expected):
        raise HTTPException(401, "action calls are accepted from the dialogue server only")


router = APIRouter(tags=["rasa-actions"], dependencies=[Depends(require_rasa)])


def _turn_request_id(action_call: dict[str, Any]) -> str | None:
    """The channel's request id, which the gateway put in the user message's metadata."""
    tracker = action_call.get("tracker")
    if not isinstance(tracker, dict):
        return None
    latest = tracker.get("latest_message")
    metadata = latest.get("metadata") if isinstance(latest, dict) else None
    slots = tracker.get("slots")
    if action_call.get("next_action") == "action_session_start" and isinstance(slots, dict):
        # The session starts before the user's message is on the tracker; Rasa passes its metadata here.
        metadata = slots.get("session_started_metadata") or metadata
    if not (isinstance(metadata, dict) and metadata.get("request_id")):
        events = tracker.get("events")
        users = (
            [e for e in events if isinstance(e, dict) and e.get("event") == "user"] if isinstance(events, list) else []
        )
        metadata = users[-1].get("metadata") if users else None
    value = metadata.get("request_id") if isinstance(metadata, dict) else None
    return clean_request_id(str(value)) if value else None


@router.post("/webhook")
async def webhook(request: Request, executor: ActionExecutorDep) -> JSONResponse:
    """Run one custom action for Rasa and return its events and responses."""
    body = await request.body()
    try:
        if encoding := request.headers.get("content-encoding"):
            body = inflate(body, encoding=encoding, limit=request.app.state.settings.app.max_action_body_bytes)
        action_call: Any = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return JSONResponse({"error": "Invalid body request"}, status_code=400)
    if not isinstance(action_call, dict) or "next_action" not in action_call or "tracker" not in action_call:
        return JSONResponse({"error": "Invalid body request"}, status_code=400)
    if request_id := _turn_request_id(action_call):
        bind_request_id(request_id)  # this request's context only: log lines of the action carry the turn's id
    logger.debug("action %s", action_call.get("next_action"))
    try:
        result = await executor.run(action_call)
    except ActionExecutionRejection as exc:
        return JSONResponse({"error": exc.message, "action_name": exc.action_name}, status_code=400)
    except ActionNotFoundException as exc:
        logger.error("unknown action %s", exc.action_name)
        return JSONResponse({"error": exc.message, "action_name": exc.action_name}, status_code=404)
    return JSONResponse(result.model_dump() if result else None)


@router.get("/actions")
async def actions(executor: ActionExecutorDep) -> list[dict[str, str]]:
    """The registered action names (same as rasa_sdk's GET /actions)."""
    return [item.model_dump() for item in executor.list_actions()]
