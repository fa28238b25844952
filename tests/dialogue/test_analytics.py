"""Turn analytics fold Rasa's event rows (the SQLTrackerStore `events` layout) into turns."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import create_engine, text

from bot.dialogue import analytics

# The table Rasa 3.6's SQLTrackerStore creates.
DDL = (
    "CREATE TABLE events (id INTEGER PRIMARY KEY, sender_id VARCHAR(255) NOT NULL, type_name VARCHAR(255) NOT NULL,"
    " timestamp FLOAT, intent_name VARCHAR(255), action_name VARCHAR(255), data TEXT)"
)


def _user(sender: str, ts: float, intent: str, conf: float, channel: str, text_: str) -> tuple[str, str, float, str]:
    data = {
        "event": "user",
        "text": text_,
        "parse_data": {"intent": {"name": intent, "confidence": conf}},
        "metadata": {"channel": channel, "language": "zh", "request_id": f"r-{ts}"},
    }
    return sender, "user", ts, json.dumps(data)


def _action(sender: str, ts: float, name: str) -> tuple[str, str, float, str]:
    return sender, "action", ts, json.dumps({"event": "action", "name": name})


def test_turns_carry_intent_confidence_channel_and_following_actions(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'tracker.db'}")
    rows = [
        _action("web:a", 1.0, "action_session_start"),
        _action("web:a", 1.1, "action_listen"),
        _user("web:a", 2.0, "greet", 0.98, "web", "你好"),
        _user("voice:CA1", 2.5, "opt_out", 0.91, "voice", "别再打了"),
        _action("web:a", 2.1, "utter_greet"),
        _action("web:a", 2.2, "action_listen"),
        _action("voice:CA1", 2.6, "action_opt_out"),
        _user("web:a", 3.0, "request_human_advisor", 0.87, "web", "转人工"),
        _action("web:a", 3.1, "action_handoff"),
    ]
    with engine.begin() as conn:
        conn.execute(text(DDL))
        for sender, kind, ts, data in rows:
            conn.execute(
                text("INSERT INTO events (sender_id, type_name, timestamp, data) VALUES (:s, :k, :t, :d)"),
                {"s": sender, "k": kind, "t": ts, "d": data},
            )
    got = analytics.turns(engine)
    assert [(t.conversation_id, t.intent, t.actions) for t in got] == [
        ("web:a", "greet", ["utter_greet"]),
        ("voice:CA1", "opt_out", ["action_opt_out"]),
        ("web:a", "request_human_advisor", ["action_handoff"]),
    ]
    assert got[0].confidence == 0.98 and got[0].channel == "web" and got[0].request_id == "r-2.0"
    assert all(t.text is None for t in got)
    voice = analytics.turns(engine, channel="voice", include_text=True)
    assert [(t.intent, t.text) for t in voice] == [("opt_out", "别再打了")]
    later = analytics.turns(engine, since=datetime.fromtimestamp(2.9, tz=UTC))
    assert [t.intent for t in later] == ["request_human_advisor"]
    assert [t.intent for t in analytics.turns(engine, limit=1)] == ["request_human_advisor"]
