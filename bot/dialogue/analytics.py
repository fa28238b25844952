"""Reads of Rasa's SQL tracker store: turn analytics (each user turn's intent, confidence, channel and
actions) and one conversation's events (the web chat's restored history).

Rasa owns the `events` table (SQLTrackerStore: sender_id, type_name, timestamp, intent_name,
action_name, data JSON). We only read it, so the audit trail stays Rasa's own record. Turn analytics
leave the client's words out unless asked for: they need the intent, not the text.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Column, Float, Integer, MetaData, String, Table, Text, and_, create_engine, or_, select
from sqlalchemy.engine import Engine
from sqlalchemy.sql.elements import ColumnElement

_events = Table(
    "events",
    MetaData(),
    Column("id", Integer, primary_key=True),
    Column("sender_id", String(255)),
    Column("type_name", String(255)),
    Column("timestamp", Float),
    Column("intent_name", String(255)),
    Column("action_name", String(255)),
    Column("data", Text),
)
_SKIPPED_ACTIONS = {"action_listen", "action_session_start", "action_extract_slots"}


@dataclass(slots=True)
class Turn:
    """One user turn and what the bot did about it."""

    conversation_id: str
    at: datetime
    channel: str | None
    language: str | None
    intent: str | None
    confidence: float | None
    request_id: str | None
    actions: list[str] = field(default_factory=list)
    text: str | None = None

    def as_json(self) -> dict[str, Any]:
        row = asdict(self)
        row["at"] = self.at.isoformat()
        return row


def tracker_engine(url: str) -> Engine:
    """An engine on the tracker store (read-only use)."""
    return create_engine(url)


def conversation_events(
    engine: Engine, conversation_id: str, *, types: Sequence[str], actions: Sequence[str] = (), limit: int
) -> list[dict[str, Any]]:
    """The latest `limit` events of these types (or runs of these actions) in one conversation, oldest
    first, in Rasa's own order (SQLTrackerStore replays by timestamp). Each is the event's JSON."""
    wanted: ColumnElement[bool] = _events.c.type_name.in_(tuple(types))
    if actions:
        wanted = or_(wanted, and_(_events.c.type_name == "action", _events.c.action_name.in_(tuple(actions))))
    query = (
        select(_events.c.data)
        .where(_events.c.sender_id == conversation_id, wanted)
        .order_by(_events.c.timestamp.desc(), _events.c.id.desc())
        .limit(limit)
    )
    with engine.connect() as conn:
        rows = conn.execute(query).scalars().all()
    return [json.loads(data or "{}") for data in reversed(rows)]


def turns(
    engine: Engine,
    *,
    since: datetime | None = None,
    channel: str | None = None,
    intent: str | None = None,
    include_text: bool = False,
    limit: int = 1000,
) -> list[Turn]:
    """The most recent `limit` user turns (oldest first), optionally filtered."""
    query = select(_events.c.sender_id, _events.c.type_name, _events.c.timestamp, _events.c.data).where(
        _events.c.type_name.in_(("user", "action"))
    )
    if since is not None:
        query = query.where(_events.c.timestamp >= since.timestamp())
    with engine.connect() as conn:
        rows = conn.execute(query.order_by(_events.c.id)).all()
    picked = sorted(
        (
            t
            for t in _fold(rows, include_text=include_text)
            if (channel is None or t.channel == channel) and (intent is None or t.intent == intent)
        ),
        key=lambda t: t.at,
    )
    return picked[-limit:]


def _fold(rows: Any, *, include_text: bool) -> Iterator[Turn]:
    """Attach the actions that followed each user event in the same conversation."""
    open_turns: dict[str, Turn] = {}
    for sender_id, type_name, timestamp, data in rows:
        event = json.loads(data or "{}")
        if type_name == "user":
            if sender_id in open_turns:
                yield open_turns.pop(sender_id)
            parse = event.get("parse_data") or {}
            meta = event.get("metadata") or {}
            top = parse.get("intent") or {}
            open_turns[sender_id] = Turn(
                conversation_id=sender_id,
                at=datetime.fromtimestamp(timestamp or 0, tz=UTC),
                channel=meta.get("channel") or sender_id.partition(":")[0] or None,
                language=meta.get("language"),
                intent=top.get("name"),
                confidence=round(float(top["confidence"]), 4) if top.get("confidence") is not None else None,
                request_id=meta.get("request_id"),
                text=event.get("text") if include_text else None,
            )
        elif sender_id in open_turns:
            name = event.get("name")
            if name == "action_listen":
                yield open_turns.pop(sender_id)
            elif name and name not in _SKIPPED_ACTIONS:
                open_turns[sender_id].actions.append(name)
    yield from open_turns.values()
