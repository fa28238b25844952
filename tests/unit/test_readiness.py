"""GET /readyz for load balancers: 503 until the dialogue engine and the knowledge base are ready on this
process; /healthz stays a liveness check (200 while Rasa loads)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from bot.app import create_app
from bot.knowledge.embeddings import HashingEmbedder
from bot.knowledge.service import KnowledgeService
from bot.knowledge.store import ChromaStore
from bot.settings import KnowledgeSettings, Settings
from tests.conftest import FakeAnswerer
from tests.support.fake_rasa import fake_rasa_app
from tests.support.servers import free_port, serve


@pytest.fixture
def rasa_url() -> Iterator[str]:
    with serve(fake_rasa_app(token="t")) as url:
        yield url


def _client(settings: Settings, rasa_port: int, answerer: object) -> TestClient:
    rasa = settings.rasa.model_copy(update={"port": rasa_port, "auth_token": SecretStr("t")})
    return TestClient(create_app(settings.model_copy(update={"rasa": rasa}), knowledge=answerer))  # type: ignore[arg-type]


def _port(url: str) -> int:
    return int(url.rsplit(":", 1)[1])


def test_ready_when_rasa_has_a_model_and_the_knowledge_base_answers(
    settings: Settings, rasa_url: str, fake_answerer: FakeAnswerer
) -> None:
    with _client(settings, _port(rasa_url), fake_answerer) as client:
        response = client.get("/readyz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ready"
    assert body["dialogue"]["ready"] is True and body["dialogue"]["model_file"].endswith("advisor-abc.tar.gz")
    assert body["knowledge"] == {"ready": True}


def test_not_ready_while_rasa_is_unreachable_but_still_alive(settings: Settings, fake_answerer: FakeAnswerer) -> None:
    with _client(settings, free_port(), fake_answerer) as client:
        ready = client.get("/readyz")
        alive = client.get("/healthz")
    assert ready.status_code == 503
    assert ready.json()["status"] == "not_ready" and ready.json()["dialogue"]["ready"] is False
    assert "error" in ready.json()["dialogue"]
    assert alive.status_code == 200 and alive.json()["status"] == "degraded"  # liveness: the process answers


def test_not_ready_while_this_process_restarts_its_rasa(
    settings: Settings, rasa_url: str, fake_answerer: FakeAnswerer
) -> None:
    class Restarting:
        state = "restarting"

    with _client(settings, _port(rasa_url), fake_answerer) as client:
        client.app.state.rasa_supervisor = Restarting()  # type: ignore[attr-defined]
        response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["dialogue"] == {"ready": False, "state": "restarting"}


def test_not_ready_while_rasa_has_no_model(settings: Settings, fake_answerer: FakeAnswerer) -> None:
    from fastapi import FastAPI

    loading = FastAPI()

    @loading.get("/status")
    async def status() -> dict[str, object]:
        return {"model_file": None, "num_active_training_jobs": 0}

    with serve(loading) as url, _client(settings, _port(url), fake_answerer) as client:
        response = client.get("/readyz")
    assert response.status_code == 503 and response.json()["dialogue"]["ready"] is False


def _store(path: Path) -> KnowledgeService:
    knowledge = KnowledgeSettings(collection="readiness")
    return KnowledgeService(
        knowledge=knowledge,
        open_store=lambda: ChromaStore(mode="embedded", collection=knowledge.collection, path=path),
        make_embedder=lambda tokenizer: HashingEmbedder(tokenizer, dimensions=64),
    )


def test_not_ready_until_the_knowledge_base_holds_content(settings: Settings, rasa_url: str, tmp_path: Path) -> None:
    with _client(settings, _port(rasa_url), _store(tmp_path / "chroma")) as client:
        response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["dialogue"]["ready"] is True and response.json()["knowledge"] == {"ready": False}


def test_the_demo_content_is_ready(demo_knowledge: KnowledgeService) -> None:
    assert demo_knowledge.ready() is True


def test_an_unreachable_chroma_server_is_not_ready(rasa_url: str) -> None:
    knowledge = KnowledgeSettings(chroma_mode="http", chroma_port=free_port())
    service = KnowledgeService(
        knowledge=knowledge,
        open_store=lambda: ChromaStore(mode="http", collection="c", host="127.0.0.1", port=knowledge.chroma_port),
        make_embedder=lambda tokenizer: HashingEmbedder(tokenizer, dimensions=64),
    )
    assert service.ready() is False
