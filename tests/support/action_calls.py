"""Rasa's action calls to the app's action server (/webhook), as rasa-sdk's contract has them, and what they wrote."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from bot.db import make_engine, session_factory
from bot.settings import Settings


def call(
    action: str,
    text: str,
    intent: str,
    confidence: float = 0.95,
    *,
    channel: str = "web",
    language: str = "zh",
    slots: dict[str, Any] | None = None,
    after: list[dict[str, Any]] | None = None,
    sender: str = "web:r1",
) -> dict[str, Any]:
    """Rasa's action call for the latest user turn (`after`: events following it, e.g. a form's slot)."""
    metadata = {"channel": channel, "language": language}
    latest = {"text": text, "intent": {"name": intent, "confidence": confidence}, "entities": [], "metadata": metadata}
    user = {"event": "user", "text": text, "parse_data": latest, "metadata": metadata}
    return {
        "next_action": action,
        "sender_id": sender,
        "version": "3.6.21",
        "domain": {"intents": [intent], "responses": {}, "slots": {}, "actions": [action]},
        "tracker": {
            "sender_id": sender, "slots": {"channel": channel, **(slots or {})}, "latest_message": latest,
            "events": [user, *(after or [])], "paused": False, "followup_action": None,
            "active_loop": {}, "latest_action_name": "action_listen",
        },
    }  # fmt: skip


def run(client: TestClient, payload: dict[str, Any]) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """(responses, slots set) of one action call."""
    response = client.post("/webhook", json=payload)
    assert response.status_code == 200, response.text
    body = response.json()
    return body["responses"], {e["name"]: e["value"] for e in body["events"] if e["event"] == "slot"}


def said(responses: list[dict[str, Any]]) -> list[str]:
    """Each response by its name, or by the kind of a composed message."""
    return [r.get("response") or (r.get("custom") or {}).get("kind") or "" for r in responses]


def rows(settings: Settings, model: type[Any]) -> list[Any]:
    engine = make_engine(settings.database_url)
    try:
        with session_factory(engine)() as session:
            return list(session.scalars(select(model)))
    finally:
        engine.dispose()
