"""On the real app (create_app): every console page and every admin API refuses an anonymous caller."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from bot.app import create_app
from tests.conftest import FakeAnswerer
from tests.console.support import VIEWER_KEY, console_settings

ADMIN_API_PREFIXES = ("/console/api/", "/api/leads", "/api/campaigns", "/api/analytics")


@pytest.fixture(scope="module")
def app_client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    tmp: Path = tmp_path_factory.mktemp("app-access")
    settings = console_settings(tmp, leads={"api_key": SecretStr("leads-key-0123456789")})
    with TestClient(create_app(settings, knowledge=FakeAnswerer()), follow_redirects=False) as client:
        yield client


def _concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "1", path)


def test_admin_apis_answer_401(app_client: TestClient) -> None:
    paths = app_client.app.openapi()["paths"]  # type: ignore[attr-defined]
    checked = 0
    for path, operations in paths.items():
        if not path.startswith(ADMIN_API_PREFIXES):
            continue
        for method in operations:
            response = app_client.request(method.upper(), _concrete(path))
            assert response.status_code == 401, (method, path, response.status_code)
            checked += 1
    assert checked >= 10


@pytest.mark.parametrize(
    "path", ["/console", "/console/leads", "/console/campaigns", "/console/campaigns/1", "/console/knowledge",
             "/console/audit", "/console/training", "/console/leads/export.csv"],
)  # fmt: skip
def test_console_pages_redirect_to_login(app_client: TestClient, path: str) -> None:
    response = app_client.get(path)
    assert response.status_code == 303 and response.headers["location"].startswith("/console/login")


def test_metrics_and_console_work_on_the_real_app(app_client: TestClient) -> None:
    metrics = app_client.get("/metrics")
    assert metrics.status_code == 200 and "advisor_turn_latency_seconds" in metrics.text
    assert app_client.get("/console/api/me", headers={"X-API-Key": VIEWER_KEY}).json()["role"] == "viewer"
    assert app_client.get("/console/login").status_code == 200
    assert app_client.get("/healthz", headers={"x-request-id": "ops-42"}).headers["x-request-id"] == "ops-42"
    replaced = app_client.get("/healthz", headers={"x-request-id": "bad id\twith tab"}).headers["x-request-id"]
    assert len(replaced) == 32 and replaced.isalnum()  # an implausible caller id is replaced by a fresh one
