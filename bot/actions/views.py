"""Rasa's action-server contract on FastAPI: POST /webhook, GET /actions.

Mirrors rasa_sdk.endpoint: deflate bodies accepted, 400 {"error","action_name"} on rejection,
404 for an unknown action.
"""

from __future__ import annotations

import json
import logging
import zlib
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from rasa_sdk.executor import ActionExecutor
from rasa_sdk.interfaces import ActionExecutionRejection, ActionNotFoundException

from bot.observability.logging import bind_request_id, clean_request_id

logger = logging.getLogger(__name__)
router = APIRouter(tags=["rasa-actions"])


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


def _executor(request: Request) -> ActionExecutor:
    executor: ActionExecutor = request.app.state.action_executor
    return executor


@router.post("/webhook")
async def webhook(request: Request) -> JSONResponse:
    """Run one custom action for Rasa and return its events and responses."""
    body = await request.body()
    try:
        if request.headers.get("content-encoding") == "deflate":
            body = zlib.decompress(body)
        action_call: Any = json.loads(body)
    except (zlib.error, ValueError, UnicodeDecodeError):
        return JSONResponse({"error": "Invalid body request"}, status_code=400)
    if not isinstance(action_call, dict) or "next_action" not in action_call or "tracker" not in action_call:
        return JSONResponse({"error": "Invalid body request"}, status_code=400)
    if request_id := _turn_request_id(action_call):
        bind_request_id(request_id)  # this request's context only: log lines of the action carry the turn's id
    logger.debug("action %s", action_call.get("next_action"))
    try:
        result = await _executor(request).run(action_call)
    except ActionExecutionRejection as exc:
        return JSONResponse({"error": exc.message, "action_name": exc.action_name}, status_code=400)
    except ActionNotFoundException as exc:
        logger.error("unknown action %s", exc.action_name)
        return JSONResponse({"error": exc.message, "action_name": exc.action_name}, status_code=404)
    return JSONResponse(result.model_dump() if result else None)


@router.get("/actions")
async def actions(request: Request) -> list[dict[str, str]]:
    """The registered action names (same as rasa_sdk's GET /actions)."""
    return [item.model_dump() for item in _executor(request).list_actions()]
