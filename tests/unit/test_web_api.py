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


# -- no intent shortcuts from users ---------------------------------------------------------------

SHORTCUTS = [
    "/request_human_advisor",
    '/express_interest{"product": "WM001"}',
    "/opt_out",
    "/call_start",
    "  /opt_out",  # Rasa strips whitespace before reading the intent syntax
    "\u3000/opt_out",  # ideographic space
    "／opt_out",  # full-width solidus
    "\u200b/opt_out",  # zero-width space
    "\ufeff\u200d/restart",  # BOM + zero-width joiner
    "\t\n/session_start",
    "/opt_out@0.3",
]


@pytest.mark.parametrize("text", SHORTCUTS)
def test_intent_syntax_from_a_user_never_reaches_rasa(
    settings: Settings, rasa_fake: tuple[str, object], fake_answerer: FakeAnswerer, text: str
) -> None:
    url, app = rasa_fake
    with _client(settings, int(url.rsplit(":", 1)[1]), fake_answerer) as client:
        response = client.post("/api/chat", json={"sender_id": "u1", "message": text})
    assert response.status_code == 200
    (message,) = response.json()["messages"]
    assert message["kind"] == "command_refused"
    assert message["text"].startswith("请直接用文字") and "in words" in message["text"]  # Chinese first
    assert app.state.received == []  # type: ignore[attr-defined]


def test_slashes_inside_a_message_are_just_text(
    settings: Settings, rasa_fake: tuple[str, object], fake_answerer: FakeAnswerer
) -> None:
    url, app = rasa_fake
    with _client(settings, int(url.rsplit(":", 1)[1]), fake_answerer) as client:
        client.post("/api/chat", json={"sender_id": "u1", "message": "收益1/2年付一次吗"})
    assert [r["message"] for r in app.state.received] == ["收益1/2年付一次吗"]  # type: ignore[attr-defined]


# -- rate limits ----------------------------------------------------------------------------------


def _limited(settings: Settings, **limits: float) -> Settings:
    return settings.model_copy(update={"rate_limits": settings.rate_limits.model_copy(update=limits)})


def test_a_sender_over_its_rate_gets_a_bilingual_429(
    settings: Settings, rasa_fake: tuple[str, object], fake_answerer: FakeAnswerer
) -> None:
    url, app = rasa_fake
    limited = _limited(settings, turns_per_sender=3, turns_per_address=100, window_s=60)
    with _client(limited, int(url.rsplit(":", 1)[1]), fake_answerer) as client:
        codes = [client.post("/api/chat", json={"sender_id": "u1", "message": "你好"}).status_code for _ in range(5)]
        refused = client.post("/api/chat", json={"sender_id": "u1", "message": "你好"})
        other = client.post("/api/chat", json={"sender_id": "u2", "message": "你好"})
    assert codes == [200, 200, 200, 429, 429]
    assert refused.json()["error"] == "rate_limited" and refused.json()["message"].startswith("您发送消息过于频繁")
    assert "too quickly" in refused.json()["message"] and 1 <= int(refused.headers["retry-after"]) <= 60
    assert other.status_code == 200
    assert len(app.state.received) == 4  # type: ignore[attr-defined]  # refused turns never reach Rasa


def test_one_address_cannot_dodge_the_limit_with_new_sender_ids(
    settings: Settings, rasa_fake: tuple[str, object], fake_answerer: FakeAnswerer
) -> None:
    url, _ = rasa_fake
    limited = _limited(settings, turns_per_sender=100, turns_per_address=4, window_s=60)
    with _client(limited, int(url.rsplit(":", 1)[1]), fake_answerer) as client:
        codes = [client.post("/api/chat", json={"sender_id": f"s{i}", "message": "hi"}).status_code for i in range(6)]
    assert codes == [200, 200, 200, 200, 429, 429]


def test_healthz_says_when_rasa_is_being_restarted(
    settings: Settings, rasa_fake: tuple[str, object], fake_answerer: FakeAnswerer
) -> None:
    class Restarting:
        state = "restarting"

    url, _ = rasa_fake
    with _client(settings, int(url.rsplit(":", 1)[1]), fake_answerer) as client:
        client.app.state.rasa_supervisor = Restarting()  # type: ignore[attr-defined]
        health = client.get("/healthz").json()
    assert health == {"status": "degraded", "rasa": {"reachable": False, "model": None, "state": "restarting"}}
