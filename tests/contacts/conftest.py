"""A real SQLite file per test, built through the Alembic migrations (so they are exercised too)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from bot.db import make_engine, session_factory

from .schema import build_schema


@pytest.fixture(scope="session")
def _migrated_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Migrated once per session; each test gets its own copy of the file."""
    path = tmp_path_factory.mktemp("template") / "advisor.db"
    build_schema(f"sqlite:///{path}")
    return path


@pytest.fixture
def db_url(tmp_path: Path, _migrated_db: Path) -> str:
    path = tmp_path / "advisor.db"
    shutil.copyfile(_migrated_db, path)
    return f"sqlite:///{path}"


@pytest.fixture
def sessions(db_url: str) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(db_url)
    yield session_factory(engine)
    engine.dispose()
