"""The app's one error shape, {"error", "detail": [{"field", "problem"}]}, installed once on the app.

Routers raise; they never translate. FastAPI's validation errors become a 422 naming each bad field,
HTTP errors keep their status, and every InputError of ours (bot/errors.py) becomes the status its class
carries (422, NotFound 404, Conflict 409, ...) with its message as the problem.
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from bot.errors import InputError


def error_response(status_code: int, problem: str, headers: dict[str, str] | None = None) -> JSONResponse:
    """One problem with the whole request; an unparseable body (e.g. not UTF-8) is an invalid request."""
    error = "invalid_request" if status_code == 400 else f"http_{status_code}"
    content = {"error": error, "detail": [{"field": "body", "problem": problem}]}
    return JSONResponse(status_code=status_code, content=content, headers=headers)


async def invalid_request(_: Request, exc: Exception) -> JSONResponse:
    """A clear 422 naming each bad field (non-UTF-8 and invalid JSON bodies land here too)."""
    assert isinstance(exc, RequestValidationError)
    problems = [
        {"field": ".".join(str(p) for p in err.get("loc", ())[1:]) or "body", "problem": err.get("msg")}
        for err in exc.errors()
    ]
    return JSONResponse(status_code=422, content={"error": "invalid_request", "detail": problems})


async def http_error(_: Request, exc: Exception) -> JSONResponse:
    """Same error shape everywhere."""
    assert isinstance(exc, StarletteHTTPException)
    return error_response(exc.status_code, str(exc.detail), getattr(exc, "headers", None))


async def input_error(_: Request, exc: Exception) -> JSONResponse:
    """Our refusals, mapped here once: the status comes with the error's class."""
    assert isinstance(exc, InputError)
    return error_response(exc.status_code, str(exc))


def install_error_handlers(app: FastAPI) -> None:
    """The handlers above, on `app` (the app factory; tests that mount one router do the same)."""
    app.add_exception_handler(RequestValidationError, invalid_request)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(InputError, input_error)
