"""A scripted fake of Rasa for the web chat's tests: its REST channel over loopback, and its SQL tracker
store (the `events` rows Rasa 3.6's SQLTrackerStore writes), so the history API has a record to read."""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from sqlalchemy import create_engine, text

# The table Rasa 3.6's SQLTrackerStore creates (sender_id is indexed).
DDL = (
    "CREATE TABLE IF NOT EXISTS events (id INTEGER PRIMARY KEY, sender_id VARCHAR(255) NOT NULL,"
    " type_name VARCHAR(255) NOT NULL, timestamp FLOAT, intent_name VARCHAR(255), action_name VARCHAR(255),"
    " data TEXT)"
)
DISCLOSURE = {
    "zh": "您好，我是AI智能理财助手（人工智能），不是真人。",
    "en": "Hello, I'm an AI assistant, not a person.",
}


class TrackerFile:
    """Writes events the way Rasa's SQLTrackerStore does: one row per event, its JSON in `data`."""

    def __init__(self, path: Path) -> None:
        self.engine = create_engine(f"sqlite:///{path}")
        with self.engine.begin() as conn:
            conn.execute(text(DDL))

    def add(self, sender: str, event: dict[str, Any]) -> None:
        event = {"timestamp": time.time(), **event}
        with self.engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO events (sender_id, type_name, timestamp, intent_name, action_name, data)"
                    " VALUES (:s, :k, :t, :i, :a, :d)"
                ),
                {
                    "s": sender,
                    "k": event["event"],
                    "t": event["timestamp"],
                    "i": ((event.get("parse_data") or {}).get("intent") or {}).get("name"),
                    "a": event.get("name"),
                    "d": json.dumps(event, ensure_ascii=False),
                },
            )

    def senders(self) -> set[str]:
        with self.engine.connect() as conn:
            return {row[0] for row in conn.execute(text("SELECT DISTINCT sender_id FROM events"))}


def bot_event(message: dict[str, Any]) -> dict[str, Any]:
    """A REST-channel message as the BotUttered event Rasa logs."""
    data = {"elements": None, "quick_replies": None, "buttons": message.get("buttons"), "attachment": None,
            "image": None, "custom": message.get("custom")}  # fmt: skip
    return {"event": "bot", "text": message.get("text"), "data": data, "metadata": {}}


@dataclass
class Script:
    """Replies by the client's exact text (the default for anything else) and slow texts."""

    replies: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    default: list[dict[str, Any]] = field(default_factory=lambda: [{"custom": {"zh": "好的。", "en": "OK."}}])
    delays: dict[str, float] = field(default_factory=dict)


def fake_rasa_app(tracker: TrackerFile, script: Script) -> FastAPI:
    """Rasa's REST webhook: opens each new conversation with the disclosure, like action_session_start."""
    app = FastAPI()
    app.state.received = []

    @app.post("/webhooks/rest/webhook")
    async def rest(request: Request) -> list[dict[str, Any]]:
        body = await request.json()
        app.state.received.append(body)
        sender, message = body["sender"], body["message"]
        out: list[dict[str, Any]] = []
        if sender not in tracker.senders():
            # Rasa's own order: the action, the messages it sent, then the events it returned.
            disclosure = {"custom": {**DISCLOSURE, "kind": "disclosure"}}
            tracker.add(sender, {"event": "action", "name": "action_session_start"})
            tracker.add(sender, bot_event(disclosure))
            tracker.add(sender, {"event": "session_started"})
            tracker.add(sender, {"event": "action", "name": "action_listen"})
            out.append(disclosure)
        tracker.add(sender, {"event": "user", "text": message, "metadata": body.get("metadata") or {},
                             "parse_data": {"intent": {"name": "x", "confidence": 0.9}}})  # fmt: skip
        await asyncio.sleep(script.delays.get(message, 0))
        for reply in script.replies.get(message, script.default):
            tracker.add(sender, bot_event(reply))
            out.append(reply)
        tracker.add(sender, {"event": "action", "name": "action_listen"})
        return [{"recipient_id": sender, **m} for m in out]

    @app.get("/status")
    async def status() -> dict[str, Any]:
        return {"model_file": "/x/models/advisor-fake.tar.gz"}

    return app
