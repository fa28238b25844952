"""Shared fixtures: settings in a temp data dir, and a fake answerer for tests that don't need the KB."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from bot.core.messages import Citation
from bot.db import make_engine, migrate, session_factory
from bot.settings import Settings, load_settings

# The `browser` fixture (Debian chromium + playwright) for every browser test; `demo_knowledge`
# (the shipped demo content, ingested once per session); `postgres` (a throwaway server, tests/scale).
pytest_plugins = ["tests.support.browser", "tests.support.demo", "tests.support.postgres"]


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return load_settings(data_dir=tmp_path / "var")


@pytest.fixture(scope="session")
def _migrated_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The app's database built once per session through the real Alembic migrations."""
    path = tmp_path_factory.mktemp("migrated") / "advisor.db"
    migrate(f"sqlite:///{path}")
    return path


@pytest.fixture
def db_url(tmp_path: Path, _migrated_db: Path) -> str:
    """A real SQLite file per test: a copy of the migrated template."""
    path = tmp_path / "advisor.db"
    shutil.copyfile(_migrated_db, path)
    return f"sqlite:///{path}"


@pytest.fixture
def sessions(db_url: str) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(db_url)
    yield session_factory(engine)
    engine.dispose()


class FakeAnswer:
    def __init__(self, answer: str, citations: list[Citation], grounded: bool) -> None:
        self.answer, self.citations, self.grounded = answer, citations, grounded
        self.approved: list[str] = []


class FakeAnswerer:
    """Answers every question with one approved-looking passage; records what it was asked."""

    def __init__(self) -> None:
        self.calls: list[dict[str, object]] = []

    async def answer(self, question: str, **kwargs: object) -> FakeAnswer:
        self.calls.append({"question": question, **kwargs})
        return FakeAnswer(f"关于「{question}」的已审批答复。", [Citation(id="faq-1", title="常见问题")], True)

    def products(self) -> list[object]:
        return []

    async def aclose(self) -> None:
        pass


@pytest.fixture
def fake_answerer() -> FakeAnswerer:
    return FakeAnswerer()
