"""Turns spread over several Rasa servers (fakes over loopback): round robin over the healthy ones, a
replica failing its health check gets no turns until it passes again, and a refused connection moves
the turn to the next replica (it never reached Rasa, so nothing is handled twice)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from typing import Any

import pytest
from fastapi import FastAPI, HTTPException
from fastapi.testclient import TestClient
from pydantic import SecretStr

from bot.app import create_app
from bot.dialogue.replicas import RasaReplicas
from bot.errors import DialogueUnavailable
from bot.settings import Settings
from tests.conftest import FakeAnswerer
from tests.support.fake_rasa import fake_rasa_app
from tests.support.servers import free_port, serve


@pytest.fixture
def two_rasas() -> Iterator[list[tuple[str, FastAPI]]]:
    apps = [fake_rasa_app(token="t"), fake_rasa_app(token="t")]
    with ExitStack() as stack:
        yield [(stack.enter_context(serve(app)), app) for app in apps]


def _received(app: FastAPI) -> list[dict[str, Any]]:
    received: list[dict[str, Any]] = app.state.received
    return received


async def test_turns_alternate_between_healthy_replicas(two_rasas: list[tuple[str, FastAPI]]) -> None:
    replicas = RasaReplicas([url for url, _ in two_rasas], token="t", timeout_s=5)
    try:
        for turn in range(4):
            await replicas.send("web:u1", f"turn {turn}", {})
    finally:
        await replicas.aclose()
    assert [b["message"] for b in _received(two_rasas[0][1])] == ["turn 0", "turn 2"]
    assert [b["message"] for b in _received(two_rasas[1][1])] == ["turn 1", "turn 3"]


async def test_a_replica_failing_its_health_check_gets_no_turns(two_rasas: list[tuple[str, FastAPI]]) -> None:
    sick = FastAPI()

    @sick.get("/status")
    async def status() -> dict[str, Any]:
        raise HTTPException(503)

    @sick.post("/webhooks/rest/webhook")
    async def webhook() -> list[dict[str, Any]]:
        raise AssertionError("a replica failing its health check must get no turns")

    with serve(sick) as sick_url:
        replicas = RasaReplicas([sick_url, two_rasas[0][0]], token="t", timeout_s=5)
        try:
            await replicas.check()
            for turn in range(3):
                await replicas.send("web:u1", f"turn {turn}", {})
            health = replicas.health()
        finally:
            await replicas.aclose()
    assert len(_received(two_rasas[0][1])) == 3
    assert [h["healthy"] for h in health] == [False, True]


async def test_a_refused_turn_goes_to_the_next_replica_and_recovery_is_seen(
    two_rasas: list[tuple[str, FastAPI]],
) -> None:
    down = f"http://127.0.0.1:{free_port()}"
    replicas = RasaReplicas([down, two_rasas[0][0]], token="t", timeout_s=5)
    try:
        for turn in range(4):  # no health check yet: the first turn finds the dead one by trying it
            await replicas.send("web:u1", f"turn {turn}", {})
        assert [b["message"] for b in _received(two_rasas[0][1])] == [f"turn {t}" for t in range(4)]
        assert replicas.health()[0]["healthy"] is False
    finally:
        await replicas.aclose()
    # the same address answering again is used again after its next health check
    replicas = RasaReplicas([two_rasas[1][0], two_rasas[0][0]], token="t", timeout_s=5)
    replicas.replicas[0].healthy = False
    try:
        await replicas.check()
        assert [h["healthy"] for h in replicas.health()] == [True, True]
    finally:
        await replicas.aclose()


async def test_every_replica_down_is_dialogue_unavailable() -> None:
    replicas = RasaReplicas([f"http://127.0.0.1:{free_port()}" for _ in range(2)], token="t", timeout_s=2)
    try:
        with pytest.raises(DialogueUnavailable):
            await replicas.send("web:u1", "hi", {})
        with pytest.raises(DialogueUnavailable):
            await replicas.status()
    finally:
        await replicas.aclose()


def test_the_app_spreads_chat_turns_over_rasa_urls(
    settings: Settings, two_rasas: list[tuple[str, FastAPI]], fake_answerer: FakeAnswerer
) -> None:
    rasa = settings.rasa.model_copy(update={"urls": [url for url, _ in two_rasas], "auth_token": SecretStr("t")})
    app = create_app(settings.model_copy(update={"rasa": rasa}), knowledge=fake_answerer)  # type: ignore[arg-type]
    with TestClient(app) as client:
        codes = [client.post("/api/chat", json={"sender_id": "u1", "message": f"m{i}"}).status_code for i in range(4)]
        ready = client.get("/readyz").json()
    assert codes == [200] * 4
    assert len(_received(two_rasas[0][1])) == 2 and len(_received(two_rasas[1][1])) == 2
    assert [r["healthy"] for r in ready["dialogue"]["replicas"]] == [True, True]
