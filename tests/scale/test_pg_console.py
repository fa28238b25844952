"""The operations console on a real PostgreSQL server: its pages and opt-out form (the same tests as on
SQLite, collected again with a PostgreSQL database), and a logout that ends the session in every app
process sharing the database, and the wrong-password slow-down shared by processes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from bot.console.auth import COOKIE
from bot.db import make_engine, session_factory
from bot.settings import DatabaseSettings, Settings
from tests.console.conftest import login
from tests.console.support import ADMIN, console_app, console_settings
from tests.console.test_login_failures import *  # noqa: F403
from tests.console.test_optouts import *  # noqa: F403
from tests.console.test_pages import *  # noqa: F403

pytestmark = pytest.mark.pg


@pytest.fixture
def c_settings(tmp_path: Path, db_url: str) -> Settings:
    return console_settings(tmp_path).model_copy(update={"database": DatabaseSettings(url=db_url)})


@pytest.fixture
def client(c_settings: Settings, sessions: sessionmaker[Session]) -> Iterator[TestClient]:
    with TestClient(console_app(c_settings, sessions), follow_redirects=False) as test_client:
        yield test_client


def test_a_logout_in_one_process_ends_the_session_in_another(c_settings: Settings, db_url: str) -> None:
    engines = [make_engine(db_url), make_engine(db_url)]  # two app processes: own engines, one database
    one, other = (console_app(c_settings, session_factory(engine)) for engine in engines)
    try:
        with TestClient(one, follow_redirects=False) as first, TestClient(other, follow_redirects=False) as second:
            csrf = login(first, ADMIN)
            second.cookies.set(COOKIE, first.cookies[COOKIE])
            assert second.get("/console/leads").status_code == 200
            assert first.post("/console/logout", data={"csrf_token": csrf}).status_code == 303
            assert second.get("/console/leads").status_code in {302, 303, 401}
    finally:
        for engine in engines:
            engine.dispose()
