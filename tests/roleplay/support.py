"""Role-play test helpers: schema through the real migration, an app with the router, a fake LLM server."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session, sessionmaker

from bot.db import migrate
from bot.roleplay.schemas import TranscriptTurn
from bot.roleplay.service import TrainingService
from bot.roleplay.views import router
from bot.settings import Settings


def build_schema(url: str) -> None:
    """The app's own migration path (Alembic)."""
    migrate(url)


def training_app(
    settings: Settings, sessions: sessionmaker[Session], service: TrainingService | None = None
) -> FastAPI:
    """A bare app with the training router, given what bot.app.create_app puts on app.state."""
    app = FastAPI()
    app.state.settings = settings
    app.state.sessions = sessions
    app.state.training = service
    app.include_router(router)
    return app


def turns(*pairs: tuple[str, str]) -> list[TranscriptTurn]:
    """(role, text) pairs as transcript turns."""
    return [TranscriptTurn(role=role, text=text) for role, text in pairs]  # type: ignore[arg-type]


Behaviour = Callable[[dict[str, Any]], tuple[int, str]]


def fake_openai(behaviour: Behaviour) -> FastAPI:
    """An OpenAI-compatible /v1/chat/completions; `behaviour(body)` gives (status, content)."""
    app = FastAPI()
    app.state.requests = []

    @app.post("/v1/chat/completions")
    async def complete(request: Request) -> JSONResponse:
        body = await request.json()
        app.state.requests.append(body)
        status, content = behaviour(body)
        if status != 200:
            return JSONResponse({"error": {"message": content, "type": "server_error"}}, status_code=status)
        return JSONResponse(
            {
                "id": "chatcmpl-test",
                "object": "chat.completion",
                "created": 0,
                "model": body["model"],
                "choices": [
                    {"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}
                ],
                "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
            }
        )

    return app
