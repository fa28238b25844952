"""Named FastAPI dependencies (SettingsDep, GatewayDep): services live on app.state, built once."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

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
