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

logger = logging.getLogger(__name__)
router = APIRouter(tags=["rasa-actions"])


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
