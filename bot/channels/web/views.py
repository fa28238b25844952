"""Web chat: the page at / and the chat API (a contract: POST /api/chat)."""

from __future__ import annotations

import logging
import math
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, JSONResponse
from pydantic import BaseModel, Field, field_validator

from bot.deps import GatewayDep, SettingsDep
from bot.dialogue.inbound import gateway_texts
from bot.errors import DialogueUnavailable, RateLimited
from bot.limits import SlidingWindow

logger = logging.getLogger(__name__)
router = APIRouter(tags=["web"])
STATIC_DIR = Path(__file__).parent / "static"


class ChatRequest(BaseModel):
    """One web chat turn."""

    sender_id: str = Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9_.:@-]+$")
    message: str = Field(min_length=1, max_length=2000)

    @field_validator("message")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("message must not be empty / 消息不能为空")
        return value


class ChatMessage(BaseModel):
    text: str
    kind: str | None = None
    citations: list[dict[str, str]] = Field(default_factory=list)


class ChatResponse(BaseModel):
    messages: list[ChatMessage]


def busy_message(hotline: str) -> str:
    """The polite degraded reply when the dialogue engine is down (bilingual, Chinese first)."""
    return (
        f"系统繁忙，请稍后再试，或致电客服热线 {hotline}。"
        f" / We're busy right now; please try again later or call our hotline {hotline}."
    )


@router.get("/", include_in_schema=False)
async def index() -> FileResponse:
    return FileResponse(STATIC_DIR / "index.html", media_type="text/html; charset=utf-8")


@router.post("/api/chat", response_model=ChatResponse, responses={503: {"description": "Rasa unavailable"}})
async def chat(
    body: ChatRequest, request: Request, gateway: GatewayDep, settings: SettingsDep
) -> ChatResponse | JSONResponse:
    """Forward one message to the advisor and return its replies (429 past the sender's or address's rate)."""
    try:
        _count_address(request)
        reply = await gateway.handle(
            channel="web",
            sender_id=body.sender_id,
            text=body.message,
            request_id=request.state.request_id,
        )
    except RateLimited as exc:
        return JSONResponse(
            status_code=429,
            content={"error": "rate_limited", "message": exc.message},
            headers={"Retry-After": str(max(1, math.ceil(exc.retry_after_s)))},
        )
    except DialogueUnavailable as exc:
        logger.warning("dialogue unavailable: %s", exc)
        return JSONResponse(
            status_code=503,
            content={"error": "dialogue_unavailable", "message": busy_message(settings.app.hotline)},
        )
    return ChatResponse(
        messages=[
            ChatMessage(text=m.text, kind=m.kind, citations=[c.model_dump() for c in m.citations])
            for m in reply.messages
        ]
    )


def _count_address(request: Request) -> None:
    """One turn from this client address (the web's second limit: sender ids are the client's to choose)."""
    limit: SlidingWindow | None = getattr(request.app.state, "address_limit", None)
    address = request.client.host if request.client else "unknown"
    if limit is not None and (wait := limit.hit(address)) is not None:
        raise RateLimited(gateway_texts().rate_limited, retry_after_s=wait)


@router.get("/healthz")
async def healthz(request: Request, settings: SettingsDep) -> dict[str, Any]:
    """Whether Rasa is reachable and which model it has loaded; while this process restarts a Rasa that
    exited, `rasa.state` says "restarting" (the supervisor's state: starting, up, restarting, stopped)."""
    supervisor = getattr(request.app.state, "rasa_supervisor", None)
    state = supervisor.state if supervisor is not None else None
    rasa: dict[str, Any]
    if state not in (None, "up"):
        rasa = {"reachable": False, "model": None, "state": state}
    else:
        try:
            status = await request.app.state.rasa_client.status()
            rasa = {"reachable": True, "model": Path(str(status.get("model_file", ""))).name}
        except DialogueUnavailable as exc:
            rasa = {"reachable": False, "model": None, "error": str(exc)}
        if state is not None:
            rasa["state"] = state
    return {"status": "ok" if rasa["reachable"] else "degraded", "rasa": rasa}
