"""Twilio voice webhooks (our own, not Rasa's twilio_voice channel): thin, signed, typed, always TwiML.

Every request is checked against X-Twilio-Signature before anything else is read; a failure is a 403.
"""

from __future__ import annotations

import logging
from typing import Annotated, TypeVar

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from pydantic import BaseModel, Field, TypeAdapter, ValidationError

from bot.db import DB_INT_MAX
from bot.errors import InputError
from telephony.models import AnswerForm, DialForm, GatherForm, StatusForm
from telephony.runtime import VoiceRuntime
from telephony.signature import SIGNATURE_HEADER

logger = logging.getLogger(__name__)
router = APIRouter(prefix="/voice", tags=["voice"])
MAX_BODY_BYTES = 64 * 1024  # Twilio's forms are a few hundred bytes
TWIML = "application/xml"
FormT = TypeVar("FormT", bound=BaseModel)
# The campaign attempt id the dialer put in the signed URL: a database id, so a huge one is a 422.
_ATTEMPT: TypeAdapter[int] = TypeAdapter(Annotated[int, Field(ge=1, le=DB_INT_MAX)])


class Rejected(InputError):
    """A webhook we refuse before any work: the response to send instead (Twilio gets plain text)."""

    def __init__(self, response: Response) -> None:
        super().__init__(f"voice webhook refused ({response.status_code})")
        self.status_code = response.status_code
        self.response = response


async def _accept(request: Request, model: type[FormT]) -> tuple[VoiceRuntime, FormT, int]:
    """Signature first, then the typed form and the attempt id from the query."""
    runtime: VoiceRuntime | None = getattr(request.app.state, "voice", None)
    if runtime is None:
        raise Rejected(PlainTextResponse("voice channel is not configured", status_code=404))
    declared = request.headers.get("content-length", "0")
    if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise Rejected(PlainTextResponse("too large", status_code=413))
    form = await request.form()
    params = {key: value for key, value in form.multi_items() if isinstance(value, str)}
    url = runtime.checker.public_url(request.url.path, request.url.query)
    if not runtime.checker.valid(url, params, request.headers.get(SIGNATURE_HEADER)):
        logger.warning("voice webhook refused: bad signature for %s", request.url.path)
        raise Rejected(PlainTextResponse("forbidden", status_code=403))
    try:
        parsed = model.model_validate(params)
    except ValidationError as exc:
        raise Rejected(PlainTextResponse(f"bad request: {exc}", status_code=400)) from exc
    try:
        attempt = _ATTEMPT.validate_python(request.query_params.get("attempt"))
    except ValidationError as exc:
        problem = {"field": "attempt", "problem": exc.errors()[0]["msg"]}
        raise Rejected(JSONResponse({"error": "invalid_request", "detail": [problem]}, status_code=422)) from exc
    return runtime, parsed, attempt


def _twiml(document: str) -> Response:
    return Response(document, media_type=TWIML)


@router.post("/answer")
async def answer(request: Request) -> Response:
    """The callee picked up (a person, or a machine per AMD)."""
    try:
        runtime, form, attempt = await _accept(request, AnswerForm)
    except Rejected as exc:
        return exc.response
    return _twiml(await runtime.service.answer(form, attempt_id=attempt))


@router.post("/turn")
async def turn(request: Request) -> Response:
    """The <Gather> result: what the caller said, or silence."""
    try:
        runtime, form, attempt = await _accept(request, GatherForm)
    except Rejected as exc:
        return exc.response
    silence = request.query_params.get("silence", "0")
    count = min(int(silence), 5) if silence.isdigit() else 0
    offer = request.query_params.get("offer") or None  # the advisor whose link we just offered (signed URL)
    return _twiml(await runtime.service.turn(form, attempt_id=attempt, silence=count, offer=offer))


@router.post("/dial")
async def dial(request: Request) -> Response:
    """How a transfer to an advisor went."""
    try:
        runtime, form, attempt = await _accept(request, DialForm)
    except Rejected as exc:
        return exc.response
    return _twiml(await runtime.service.dial_done(form, attempt_id=attempt))


@router.post("/status")
async def status(request: Request) -> Response:
    """A status callback; duplicates are acknowledged and change nothing."""
    try:
        runtime, form, attempt = await _accept(request, StatusForm)
    except Rejected as exc:
        return exc.response
    if await runtime.service.status(form, attempt_id=attempt):
        metrics = getattr(request.app.state, "metrics", None)
        if metrics is not None:  # counted once per real change, never for Twilio's retries
            metrics.record_call_status(form.call_status)
    return Response(status_code=204)
