"""The WeCom callback endpoint (kf notices and the advisors' app share it): thin, the work is elsewhere."""

from __future__ import annotations

import logging

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import PlainTextResponse, Response

from bot.channels.wecom.errors import CallbackRejected
from bot.channels.wecom.runtime import WeComRuntime

logger = logging.getLogger(__name__)
router = APIRouter(prefix="/channels/wecom", tags=["wecom"])
CALLBACK_PATH = "/callback"
MAX_BODY_BYTES = 64 * 1024  # callbacks are small XML envelopes


def _runtime(request: Request) -> WeComRuntime:
    runtime: WeComRuntime | None = getattr(request.app.state, "wecom", None)
    if runtime is None or not runtime.enabled or runtime.guard is None:
        raise HTTPException(status_code=404, detail="WeCom channel is not enabled")
    return runtime


def _refuse(exc: CallbackRejected) -> PlainTextResponse:
    logger.warning("WeCom callback refused: %s", exc)
    return PlainTextResponse("forbidden" if exc.status_code == 403 else "bad request", status_code=exc.status_code)


@router.get(CALLBACK_PATH, response_class=PlainTextResponse)
async def verify_url(
    request: Request,
    msg_signature: str = Query(min_length=1),
    timestamp: str = Query(min_length=1),
    nonce: str = Query(min_length=1),
    echostr: str = Query(min_length=1),
) -> PlainTextResponse:
    """WeCom's URL check: answer with the decrypted echostr (pure CPU, well within its 1 s)."""
    guard = _runtime(request).guard
    assert guard is not None
    try:
        plain = guard.verify_url(msg_signature=msg_signature, timestamp=timestamp, nonce=nonce, echostr=echostr)
    except CallbackRejected as exc:
        return _refuse(exc)
    return PlainTextResponse(plain)


@router.post(CALLBACK_PATH)
async def receive(
    request: Request,
    msg_signature: str = Query(min_length=1),
    timestamp: str = Query(min_length=1),
    nonce: str = Query(min_length=1),
) -> Response:
    """Verify, decrypt, dedup, then ack at once (kf) or with a passive reply inside WeCom's 5 s (staff)."""
    runtime = _runtime(request)
    assert runtime.guard is not None
    declared = request.headers.get("content-length", "0")
    if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        return PlainTextResponse("too large", status_code=413)
    body = await request.body()
    if len(body) > MAX_BODY_BYTES:
        return PlainTextResponse("too large", status_code=413)
    try:
        message = await runtime.guard.open(msg_signature=msg_signature, timestamp=timestamp, nonce=nonce, body=body)
    except CallbackRejected as exc:
        return _refuse(exc)
    if message is None:
        return Response(status_code=200)
    reply = await runtime.dispatch(message)
    if reply is None:
        return Response(status_code=200)
    return Response(reply, media_type="application/xml")
