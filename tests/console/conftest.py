"""Console fixtures: a migrated SQLite file per test, settings with users and keys, a test client."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from bot.db import make_engine, session_factory
from bot.settings import Settings
from tests.console.support import build_schema, console_app, console_settings


@pytest.fixture
def c_settings(tmp_path: Path) -> Settings:
    return console_settings(tmp_path)


@pytest.fixture
def sessions(c_settings: Settings) -> Iterator[sessionmaker[Session]]:
    build_schema(c_settings.database_url)
    engine = make_engine(c_settings.database_url)
    yield session_factory(engine)
    engine.dispose()


@pytest.fixture
def client(c_settings: Settings, sessions: sessionmaker[Session]) -> Iterator[TestClient]:
    with TestClient(console_app(c_settings, sessions), follow_redirects=False) as test_client:
        yield test_client


def login(client: TestClient, user: tuple[str, str]) -> str:
    """Log in through the form; returns the page's CSRF token."""
    response = client.post("/console/login", data={"username": user[0], "password": user[1], "next": "/console/leads"})
    assert response.status_code == 303, response.text
    page = client.get("/console/leads")
    assert page.status_code == 200
    marker = 'name="csrf_token" value="'
    return page.text.split(marker, 1)[1].split('"', 1)[0]
