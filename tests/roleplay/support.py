"""Role-play test helpers: schema through the real migration, an app with the router behind the console's
login, the accounts that train, a fake LLM server."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy.orm import Session, sessionmaker

from bot.console.auth import ConsoleAuth, hash_password
from bot.console.views import router as console_router
from bot.db import migrate
from bot.error_handlers import install_error_handlers
from bot.roleplay.schemas import TranscriptTurn
from bot.roleplay.service import TrainingService
from bot.roleplay.views import router
from bot.settings import Settings


def build_schema(url: str) -> None:
    """The app's own migration path (Alembic)."""
    migrate(url)


# Advisor accounts (login name trainee_<id>) for the advisor ids the tests train under, and two staff.
TRAINEES = ("a1", "a2", "a3", "a1024")
COACH = ("coach", "coach pass phrase 1")  # admin: reads every session
OPS = ("ops", "ops viewer phrase 2")  # viewer: the team's averages only
_HASH = hash_password("training pass phrase")


def console_users() -> dict[str, Any]:
    """ADVISOR_CONSOLE__USERS as settings: one advisor account per trainee id, an admin and a viewer."""
    users: dict[str, Any] = {
        f"trainee_{advisor_id}": {"password_hash": SecretStr(_HASH), "role": "advisor", "advisor_id": advisor_id}
        for advisor_id in TRAINEES
    }
    users[COACH[0]] = {"password_hash": SecretStr(hash_password(COACH[1])), "role": "admin"}
    users[OPS[0]] = {"password_hash": SecretStr(hash_password(OPS[1])), "role": "viewer"}
    return {"users": users, "session_secret": SecretStr("training-test-secret-0123456789")}


def training_app(
    settings: Settings, sessions: sessionmaker[Session], service: TrainingService | None = None
) -> FastAPI:
    """A bare app with the training router and the console's login, given what create_app puts on app.state
    (the training service too: built here from settings unless one is given)."""
    app = FastAPI()
    app.state.settings = settings
    app.state.sessions = sessions
    app.state.training = service or TrainingService.from_settings(settings, sessions=sessions)
    app.state.console_auth = ConsoleAuth(settings.console)
    app.include_router(router)
    app.include_router(console_router)
    install_error_handlers(app)  # as create_app does
    return app


def login(client: TestClient, user: tuple[str, str]) -> None:
    """Log in through the console's form; later POSTs carry the session's CSRF token."""
    client.cookies.clear()
    client.headers.pop("X-CSRF-Token", None)
    response = client.post("/console/login", data={"username": user[0], "password": user[1]}, follow_redirects=False)
    assert response.status_code == 303, response.text
    me = client.get("/api/training/me")
    assert me.status_code == 200, me.text
    client.headers["X-CSRF-Token"] = me.json()["csrf_token"]


def login_advisor(client: TestClient, advisor_id: str) -> None:
    login(client, (f"trainee_{advisor_id}", "training pass phrase"))


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
