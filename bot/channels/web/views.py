"""Web chat: the page at / and the chat API (a contract: POST /api/chat)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, JSONResponse
from pydantic import BaseModel, Field, field_validator

from bot.deps import GatewayDep, SettingsDep
from bot.errors import DialogueUnavailable

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
    """Forward one message to the advisor and return its replies."""
    try:
        reply = await gateway.handle(
            channel="web",
            sender_id=body.sender_id,
            text=body.message,
            request_id=request.state.request_id,
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


@router.get("/healthz")
async def healthz(request: Request, settings: SettingsDep) -> dict[str, Any]:
    """Whether Rasa is reachable and which model it has loaded."""
    try:
        status = await request.app.state.rasa_client.status()
        rasa: dict[str, Any] = {"reachable": True, "model": Path(str(status.get("model_file", ""))).name}
    except DialogueUnavailable as exc:
        rasa = {"reachable": False, "model": None, "error": str(exc)}
    return {"status": "ok" if rasa["reachable"] else "degraded", "rasa": rasa}
