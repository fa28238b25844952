"""The chat API against a fake Rasa over loopback: contract, bad input, and Rasa being down."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from bot.app import create_app
from bot.settings import Settings
from tests.conftest import FakeAnswerer
from tests.support.fake_rasa import fake_rasa_app
from tests.support.servers import free_port, serve


@pytest.fixture
def rasa_fake() -> Iterator[tuple[str, object]]:
    app = fake_rasa_app(token="t")
    with serve(app) as url:
        yield url, app


def _client(settings: Settings, rasa_port: int, answerer: FakeAnswerer) -> TestClient:
    rasa = settings.rasa.model_copy(update={"port": rasa_port, "auth_token": SecretStr("t")})
    return TestClient(create_app(settings.model_copy(update={"rasa": rasa}), knowledge=answerer))


def test_chat_contract_and_sender_metadata(
    settings: Settings, rasa_fake: tuple[str, object], fake_answerer: FakeAnswerer
) -> None:
    url, app = rasa_fake
    with _client(settings, int(url.rsplit(":", 1)[1]), fake_answerer) as client:
        response = client.post("/api/chat", json={"sender_id": "u1", "message": "hello"})
        assert response.status_code == 200
        assert response.json()["messages"][0]["text"] == "Hello!"
        # a digits-only reply keeps the conversation's language
        assert (
            client.post("/api/chat", json={"sender_id": "u1", "message": "2"}).json()["messages"][0]["text"] == "Hello!"
        )
        assert (
            client.post("/api/chat", json={"sender_id": "u2", "message": "你好"}).json()["messages"][0]["text"]
            == "您好！"
        )
    sent = app.state.received  # type: ignore[attr-defined]
    assert sent[0]["sender"] == "web:u1"
    assert sent[0]["metadata"]["channel"] == "web" and sent[0]["metadata"]["language"] == "en"
    assert sent[0]["metadata"]["request_id"]


@pytest.mark.parametrize(
    "body",
    [
        {"sender_id": "u1", "message": ""},
        {"sender_id": "u1", "message": "   "},
        {"sender_id": "u1", "message": "长" * 2001},
        {"sender_id": "", "message": "hi"},
        {"message": "hi"},
    ],
)
def test_bad_input_is_a_clear_422(settings: Settings, fake_answerer: FakeAnswerer, body: dict[str, str]) -> None:
    with _client(settings, free_port(), fake_answerer) as client:
        response = client.post("/api/chat", json=body)
    assert response.status_code == 422
    assert response.json()["error"] == "invalid_request"
    assert response.json()["detail"][0]["problem"]


def test_non_utf8_and_non_json_bodies_are_4xx(settings: Settings, fake_answerer: FakeAnswerer) -> None:
    with _client(settings, free_port(), fake_answerer) as client:
        latin1 = '{"sender_id": "u1", "message": "caf\xe9"}'.encode("latin-1")
        for content in (latin1, b"not json"):
            response = client.post("/api/chat", content=content, headers={"Content-Type": "application/json"})
            assert 400 <= response.status_code < 500
            assert response.json()["error"] == "invalid_request"


def test_rasa_down_is_503_with_polite_bilingual_message(settings: Settings, fake_answerer: FakeAnswerer) -> None:
    with _client(settings, free_port(), fake_answerer) as client:
        response = client.post("/api/chat", json={"sender_id": "u1", "message": "你好"})
        health = client.get("/healthz").json()
    assert response.status_code == 503
    body = response.json()
    assert body["error"] == "dialogue_unavailable"
    assert "系统繁忙" in body["message"] and "hotline" in body["message"] and "400-000-0000" in body["message"]
    assert health["status"] == "degraded" and health["rasa"]["reachable"] is False


def test_healthz_reports_model(settings: Settings, rasa_fake: tuple[str, object], fake_answerer: FakeAnswerer) -> None:
    url, _ = rasa_fake
    with _client(settings, int(url.rsplit(":", 1)[1]), fake_answerer) as client:
        health = client.get("/healthz").json()
    assert health == {"status": "ok", "rasa": {"reachable": True, "model": "advisor-abc.tar.gz"}}


def test_page_is_served_without_build_step(settings: Settings, fake_answerer: FakeAnswerer) -> None:
    with _client(settings, free_port(), fake_answerer) as client:
        page = client.get("/")
        script = client.get("/static/chat.js")
    assert page.status_code == 200 and "智能理财助手" in page.text and 'name="viewport"' in page.text
    assert script.status_code == 200 and "/api/chat" in script.text
