"""Named FastAPI dependencies (SettingsDep, GatewayDep) and shared parameter types: services live on
app.state, built once."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path, Request

from bot.db import DB_INT_MAX
from bot.dialogue.service import DialogueGateway
from bot.settings import Settings


def get_app_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_gateway(request: Request) -> DialogueGateway:
    gateway: DialogueGateway = request.app.state.gateway
    return gateway


SettingsDep = Annotated[Settings, Depends(get_app_settings)]
GatewayDep = Annotated[DialogueGateway, Depends(get_gateway)]

# A database id in a URL path: 1 .. 2^63-1, so a huge number is a 422 naming the field, not a 500.
RowId = Annotated[int, Path(ge=1, le=DB_INT_MAX)]
