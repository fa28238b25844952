"""Web chat: the page at / and its API (a contract): POST /api/chat, GET /api/chat/welcome,
GET /api/chat/history."""

from __future__ import annotations

import asyncio
import logging
import math
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import FileResponse, JSONResponse

from bot.advisor_links.offers import LinkOffers
from bot.channels.web import welcome
from bot.channels.web.history import ConversationHistory
from bot.channels.web.models import (
    HISTORY_SENDER_ID,
    ChatMessage,
    ChatRequest,
    ChatResponse,
    HistoryMessage,
    HistoryResponse,
    WelcomeResponse,
    chat_message,
)
from bot.core.identity import Identity
from bot.core.messages import Reply
from bot.deps import GatewayDep, KnowledgeDep, SettingsDep
from bot.dialogue.inbound import gateway_texts
from bot.errors import DialogueUnavailable, RateLimited
from bot.knowledge.guard import product_ref
from bot.language import Language
from bot.limits import RateWindow

logger = logging.getLogger(__name__)
router = APIRouter(tags=["web"])
STATIC_DIR = Path(__file__).parent / "static"
# Message kinds of a hand-off reply (the lead recorded, or the client's details asked for).
HANDOFF_KINDS = frozenset({"handoff", "contact"})


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
        await _count_address(request)
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
    messages = [chat_message(m) for m in reply.messages]
    if HANDOFF_KINDS & {m.kind for m in reply.messages}:
        messages += await _advisor_link(request, reply)
    return ChatResponse(messages=messages)


async def _advisor_link(request: Request, reply: Reply) -> list[ChatMessage]:
    """With a hand-off, the advisor's WeCom QR code and link (approved wording), once per conversation."""
    offers: LinkOffers | None = getattr(request.app.state, "link_offers", None)
    if offers is None:
        return []
    chat = await offers.for_handoff(conversation_id=reply.conversation_id, language=reply.language)
    if chat is None:
        return []
    return [ChatMessage(text=chat.text, kind="advisor_link", qr_code=chat.link.url or None)]


@router.get("/api/chat/welcome", response_model=WelcomeResponse)
async def chat_welcome(settings: SettingsDep, knowledge: KnowledgeDep, lang: Language | None = None) -> WelcomeResponse:
    """The first screen: a bilingual greeting naming the bank, and suggested questions in `lang` drawn
    from the approved FAQ content that is ingested and valid today for the web channel."""
    language = lang or settings.default_language
    web = settings.channels.web
    suggested = await asyncio.to_thread(welcome.suggestions, knowledge, language=language, web=web)
    return WelcomeResponse(
        language=language,
        bank_name=welcome.Bilingual(zh=settings.app.bank_name, en=settings.app.bank_name_en),
        greeting=welcome.greeting(settings.app),
        suggestions_title=getattr(welcome.web_texts().suggestions_title, language),
        suggestions=suggested,
    )


@router.get("/api/chat/history", response_model=HistoryResponse)
async def chat_history(
    settings: SettingsDep, knowledge: KnowledgeDep, sender_id: Annotated[str, Query(pattern=HISTORY_SENDER_ID)]
) -> HistoryResponse:
    """The visible history of this web conversation (client texts and rendered bot messages with their
    sources and quick replies), from Rasa's tracker store; no messages when the server has none."""
    history = ConversationHistory(
        tracker_store=settings.tracker_store_url,
        products=lambda: [product_ref(p) for p in knowledge.products()],
        default_language=settings.default_language,
        identity=Identity.from_settings(settings.app),
        approved=getattr(knowledge, "is_approved", None),
    )
    # web conversations only, whatever the id says
    language, lines = await history.load(f"web:{sender_id}", messages=settings.channels.web.history_messages)
    return HistoryResponse(
        sender_id=sender_id,
        language=language,
        messages=[HistoryMessage(role=line.role, **chat_message(line.message).model_dump()) for line in lines],
    )


async def _count_address(request: Request) -> None:
    """One turn from this client address (the web's second limit: sender ids are the client's to choose)."""
    limit: RateWindow | None = getattr(request.app.state, "address_limit", None)
    address = request.client.host if request.client else "unknown"
    if limit is not None and (wait := await limit.count(address)) is not None:
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
