"""Named FastAPI dependencies for every router and shared parameter types.

The services live on app.state, built once by the app's lifespan (bot/app.py, the composition root);
routers reach them through these aliases, so what a missing service means (503 while the app starts or
after it stopped) is decided here once.
"""

from __future__ import annotations

import hmac
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Path, Request, Security, status
from fastapi.security import APIKeyHeader
from rasa_sdk.executor import ActionExecutor
from sqlalchemy.orm import Session, sessionmaker

from bot.actions.answer import Answerer
from bot.db import DB_INT_MAX
from bot.dialogue.service import DialogueGateway
from bot.roleplay.service import TrainingService
from bot.settings import Settings

_api_key = APIKeyHeader(name="X-API-Key", auto_error=False, description="settings.leads.api_key")


def get_app_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_gateway(request: Request) -> DialogueGateway:
    gateway: DialogueGateway = request.app.state.gateway
    return gateway


def get_sessions(request: Request) -> sessionmaker[Session]:
    """The app's session factory (app.state.sessions, built once in the lifespan); 503 before it is."""
    sessions: sessionmaker[Session] | None = getattr(request.app.state, "sessions", None)
    if sessions is None:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, "database not ready")
    return sessions


def _started(request: Request, name: str, what: str) -> Any:
    """A service the lifespan puts on app.state; 503 before it has (or after it stopped)."""
    service = getattr(request.app.state, name, None)
    if service is None:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, f"{what} is not running")
    return service


def get_knowledge(request: Request) -> Answerer:
    knowledge: Answerer = _started(request, "knowledge", "the knowledge base")
    return knowledge


def get_action_executor(request: Request) -> ActionExecutor:
    executor: ActionExecutor = _started(request, "action_executor", "the action server")
    return executor


def get_training(request: Request) -> TrainingService:
    training: TrainingService = _started(request, "training", "the training service")
    return training


SettingsDep = Annotated[Settings, Depends(get_app_settings)]
GatewayDep = Annotated[DialogueGateway, Depends(get_gateway)]
SessionsDep = Annotated[sessionmaker[Session], Depends(get_sessions)]
KnowledgeDep = Annotated[Answerer, Depends(get_knowledge)]
ActionExecutorDep = Annotated[ActionExecutor, Depends(get_action_executor)]
TrainingDep = Annotated[TrainingService, Depends(get_training)]


def require_api_key(settings: SettingsDep, key: Annotated[str | None, Security(_api_key)]) -> None:
    """The staff APIs' key (leads, analytics, campaigns): 401 without the right key; 503 when no key is
    configured (the API is off, not open)."""
    expected = settings.leads.api_key.get_secret_value() if settings.leads.api_key else ""
    if not expected:
        raise HTTPException(503, "the leads API is disabled: set ADVISOR_LEADS__API_KEY to enable it")
    if key is None or not hmac.compare_digest(key.encode("utf-8"), expected.encode("utf-8")):
        raise HTTPException(401, "missing or invalid X-API-Key header", headers={"WWW-Authenticate": "APIKey"})


# A database id in a URL path: 1 .. 2^63-1, so a huge number is a 422 naming the field, not a 500.
RowId = Annotated[int, Path(ge=1, le=DB_INT_MAX)]
