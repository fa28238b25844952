"""Twilio voice webhooks (our own, not Rasa's twilio_voice channel): thin, signed, typed, always TwiML.

Every request is accepted or refused by one dependency (webhook.py) before anything else is read; a bad
signature is a 403.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from bot.channels.voice.webhook import AnswerWebhook, DialWebhook, GatherWebhook, StatusWebhook, VoiceRoute

router = APIRouter(prefix="/voice", tags=["voice"], route_class=VoiceRoute)
TWIML = "application/xml"
MAX_SILENCES = 5  # the count rides in the signed URL; more than this is never needed


def _twiml(document: str) -> Response:
    return Response(document, media_type=TWIML)


@router.post("/answer")
async def answer(call: AnswerWebhook) -> Response:
    """The callee picked up (a person, or a machine per AMD)."""
    return _twiml(await call.runtime.service.answer(call.form, attempt_id=call.attempt))


@router.post("/turn")
async def turn(
    call: GatherWebhook, silence: Annotated[str, Query()] = "0", offer: Annotated[str | None, Query()] = None
) -> Response:
    """The <Gather> result: what the caller said, or silence.

    Both query values are read as text and never refused (a bad count is 0): a call is never dropped over
    them. `offer`: the advisor whose link the previous turn offered (signed URL)."""
    count = min(int(silence), MAX_SILENCES) if silence.isdigit() else 0
    service = call.runtime.service
    return _twiml(await service.turn(call.form, attempt_id=call.attempt, silence=count, offer=offer or None))


@router.post("/dial")
async def dial(call: DialWebhook) -> Response:
    """How a transfer to an advisor went."""
    return _twiml(await call.runtime.service.dial_done(call.form, attempt_id=call.attempt))


@router.post("/status")
async def status(call: StatusWebhook, request: Request) -> Response:
    """A status callback; duplicates are acknowledged and change nothing."""
    if await call.runtime.service.status(call.form, attempt_id=call.attempt):
        metrics = getattr(request.app.state, "metrics", None)
        if metrics is not None:  # counted once per real change, never for Twilio's retries
            metrics.record_call_status(call.form.call_status)
    return Response(status_code=204)
