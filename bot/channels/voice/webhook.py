"""The accept-or-reject step every /voice webhook shares, as a FastAPI dependency (`accept`).

The order is the contract: the channel must be configured (404) and the body small (413); the signature
over the public URL is checked (403) before any field is trusted; then the typed form (400) and the
campaign attempt the dialer signed into the URL (422). A refusal is a `Rejected` carrying the response
Twilio gets; `VoiceRoute` sends it as is, so the /voice router answers the same in any app that mounts it,
whatever error handlers that app installed.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Depends, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from fastapi.routing import APIRoute
from pydantic import BaseModel, Field, TypeAdapter, ValidationError

from bot.channels.voice.models import AnswerForm, DialForm, GatherForm, StatusForm
from bot.channels.voice.runtime import VoiceRuntime
from bot.db import DB_INT_MAX
from bot.errors import InputError
from telephony.signature import SIGNATURE_HEADER

logger = logging.getLogger(__name__)
MAX_BODY_BYTES = 64 * 1024  # Twilio's forms are a few hundred bytes
FormT = TypeVar("FormT", bound=BaseModel)
# The campaign attempt id the dialer put in the signed URL: a database id, so a huge one is a 422.
_ATTEMPT: TypeAdapter[int] = TypeAdapter(Annotated[int, Field(ge=1, le=DB_INT_MAX)])


class Rejected(InputError):
    """A webhook we refuse before any work: the response to send instead (Twilio gets plain text)."""

    def __init__(self, response: Response) -> None:
        super().__init__(f"voice webhook refused ({response.status_code})")
        self.status_code = response.status_code
        self.response = response


@dataclass(frozen=True)
class Webhook(Generic[FormT]):
    """An accepted webhook request: the voice runtime, the typed form, and the attempt the call serves."""

    runtime: VoiceRuntime
    form: FormT
    attempt: int


def accept(model: type[FormT]) -> Callable[[Request], Awaitable[Webhook[FormT]]]:
    """The dependency for a webhook whose form is `model`: signature first, then the form and the attempt."""

    async def accepted(request: Request) -> Webhook[FormT]:
        runtime = _runtime(request)
        _check_size(request)
        params = await _signed_params(request, runtime)
        return Webhook(runtime=runtime, form=_parse(model, params), attempt=_attempt(request))

    return accepted


AnswerWebhook = Annotated[Webhook[AnswerForm], Depends(accept(AnswerForm))]
GatherWebhook = Annotated[Webhook[GatherForm], Depends(accept(GatherForm))]
DialWebhook = Annotated[Webhook[DialForm], Depends(accept(DialForm))]
StatusWebhook = Annotated[Webhook[StatusForm], Depends(accept(StatusForm))]


class VoiceRoute(APIRoute):
    """A /voice route that sends a `Rejected`'s own response: Twilio never sees the app's JSON error shape."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def refusing(request: Request) -> Response:
            try:
                return await handler(request)
            except Rejected as exc:
                return exc.response

        return refusing


def _runtime(request: Request) -> VoiceRuntime:
    """The voice runtime built at start-up; none (no auth token configured) means the webhooks are off."""
    runtime: VoiceRuntime | None = getattr(request.app.state, "voice", None)
    if runtime is None:
        raise Rejected(PlainTextResponse("voice channel is not configured", status_code=404))
    return runtime


def _check_size(request: Request) -> None:
    """Refuse a declared oversize body before reading it."""
    declared = request.headers.get("content-length", "0")
    if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise Rejected(PlainTextResponse("too large", status_code=413))


async def _signed_params(request: Request, runtime: VoiceRuntime) -> dict[str, str]:
    """The form's fields, only once X-Twilio-Signature matches them and the public URL Twilio called."""
    form = await request.form()
    params = {key: value for key, value in form.multi_items() if isinstance(value, str)}
    url = runtime.checker.public_url(request.url.path, request.url.query)
    if not runtime.checker.valid(url, params, request.headers.get(SIGNATURE_HEADER)):
        logger.warning("voice webhook refused: bad signature for %s", request.url.path)
        raise Rejected(PlainTextResponse("forbidden", status_code=403))
    return params


def _parse(model: type[FormT], params: dict[str, str]) -> FormT:
    try:
        return model.model_validate(params)
    except ValidationError as exc:
        raise Rejected(PlainTextResponse(f"bad request: {exc}", status_code=400)) from exc


def _attempt(request: Request) -> int:
    try:
        return _ATTEMPT.validate_python(request.query_params.get("attempt"))
    except ValidationError as exc:
        problem = {"field": "attempt", "problem": exc.errors()[0]["msg"]}
        raise Rejected(JSONResponse({"error": "invalid_request", "detail": [problem]}, status_code=422)) from exc
