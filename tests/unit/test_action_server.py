"""The /webhook route keeps rasa-sdk's action-server contract; built with a real Tracker payload."""

from __future__ import annotations

import json
import zlib
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from rasa_sdk import Action
from rasa_sdk.interfaces import ActionExecutionRejection

from bot.app import create_app
from bot.settings import Settings
from tests.conftest import FakeAnswerer


def action_call(action: str, text: str = "稳盈1号是什么", metadata: dict[str, Any] | None = None) -> dict[str, Any]:
    """The payload Rasa 3.6 posts to an action server."""
    latest = {
        "text": text,
        "intent": {"name": "ask_product_info", "confidence": 0.97},
        "entities": [],
        "metadata": metadata or {"channel": "web", "language": "zh"},
    }
    return {
        "next_action": action,
        "sender_id": "web:abc",
        "version": "3.6.21",
        "domain": {"intents": ["ask_product_info"], "responses": {}, "slots": {}, "actions": [action]},
        "tracker": {
            "sender_id": "web:abc",
            "slots": {"session_started_metadata": metadata, "channel": None, "client_id": None},
            "latest_message": latest,
            "events": [{"event": "user", "text": text, "parse_data": latest}],
            "paused": False, "followup_action": None, "active_loop": {}, "latest_action_name": "action_listen",
        },
    }  # fmt: skip


class RejectingAction(Action):
    def name(self) -> str:
        return "action_reject"

    def run(self, dispatcher: Any, tracker: Any, domain: Any) -> list[Any]:
        raise ActionExecutionRejection("action_reject", "not now")


@pytest.fixture
def client(settings: Settings, fake_answerer: FakeAnswerer) -> Iterator[TestClient]:
    with TestClient(create_app(settings, knowledge=fake_answerer)) as test_client:
        test_client.app.state.action_executor.register_action(RejectingAction())  # type: ignore[attr-defined]
        yield test_client


def test_session_start_discloses_ai_and_keeps_metadata(client: TestClient) -> None:
    payload = action_call("action_session_start", metadata={"channel": "wecom", "client_id": "C001"})
    response = client.post("/webhook", json=payload)
    assert response.status_code == 200
    body = response.json()
    kinds = [e["event"] for e in body["events"]]
    assert kinds[0] == "session_started" and kinds[-1] == "action"
    slots = {e["name"]: e["value"] for e in body["events"] if e["event"] == "slot"}
    assert slots == {"channel": "wecom", "client_id": "C001"}
    assert body["responses"][0]["response"] == "utter_ai_disclosure"


def test_answer_action_passes_language_channel_and_citations(client: TestClient, fake_answerer: FakeAnswerer) -> None:
    payload = action_call("action_answer_question", metadata={"channel": "voice", "language": "en"})
    body = client.post("/webhook", json=payload).json()
    assert fake_answerer.calls[0]["language"] == "en"
    assert fake_answerer.calls[0]["channel"] == "voice"
    custom = body["responses"][0]["custom"]
    assert custom["citations"] == [{"id": "faq-1", "title": "常见问题"}]
    assert custom["kind"] == "answer"


def test_deflate_compressed_request_is_accepted(client: TestClient) -> None:
    raw = zlib.compress(json.dumps(action_call("action_answer_question")).encode())
    response = client.post("/webhook", content=raw, headers={"Content-Encoding": "deflate"})
    assert response.status_code == 200
    assert response.json()["responses"]


def test_rejection_is_400_with_error_and_action_name(client: TestClient) -> None:
    response = client.post("/webhook", json=action_call("action_reject"))
    assert response.status_code == 400
    assert set(response.json()) == {"error", "action_name"}
    assert response.json()["action_name"] == "action_reject"


def test_unknown_action_is_404(client: TestClient) -> None:
    response = client.post("/webhook", json=action_call("action_nope"))
    assert response.status_code == 404
    assert response.json()["action_name"] == "action_nope"


def test_garbage_body_is_400(client: TestClient) -> None:
    assert client.post("/webhook", content=b"\x00\x01not json").status_code == 400
    assert client.post("/webhook", content=b"xx", headers={"Content-Encoding": "deflate"}).status_code == 400


def test_actions_are_listed(client: TestClient) -> None:
    names = {a["name"] for a in client.get("/actions").json()}
    assert {"action_session_start", "action_answer_question"} <= names
