"""Fixtures for role-play: settings on a temp database, the domain objects, a migrated service."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.db import make_engine, session_factory
from bot.roleplay.catalogue import load_catalogue
from bot.roleplay.engine import ScriptedClient, load_replies
from bot.roleplay.nlu import Recogniser
from bot.roleplay.personas import PersonaBook
from bot.roleplay.rubric import Rubric
from bot.roleplay.scoring import Scorer
from bot.roleplay.service import TrainingService
from bot.settings import REPO_ROOT, Settings, load_settings
from tests.roleplay.support import build_schema, console_users


@pytest.fixture
def rp_settings(tmp_path: Path) -> Settings:
    """Scripted (no LLM) settings on a temp SQLite file, whatever the environment says."""
    settings = load_settings(
        data_dir=tmp_path / "var", database={"url": f"sqlite:///{tmp_path / 'rp.db'}"}, console=console_users()
    )
    return settings.model_copy(update={"llm": settings.llm.model_copy(update={"provider": None})})


@pytest.fixture(scope="session")
def book() -> PersonaBook:
    return PersonaBook.load(REPO_ROOT / "bot" / "roleplay" / "personas", default_id="neutral")


@pytest.fixture(scope="session")
def recogniser() -> Recogniser:
    return Recogniser(load_catalogue(REPO_ROOT / "knowledge_base" / "products.yml"))


@pytest.fixture(scope="session")
def scorer(recogniser: Recogniser) -> Scorer:
    return Scorer(recogniser, load_catalogue(REPO_ROOT / "knowledge_base" / "products.yml"), Rubric.load())


@pytest.fixture(scope="session")
def replies() -> dict[str, dict[str, list[str]]]:
    return load_replies()


@pytest.fixture
def client_for(book: PersonaBook, recogniser: Recogniser, replies: dict[str, dict[str, list[str]]]):  # type: ignore[no-untyped-def]
    def make(persona_id: str) -> ScriptedClient:
        return ScriptedClient(book[persona_id], recogniser, replies)

    return make


@pytest.fixture
async def service(rp_settings: Settings) -> AsyncIterator[TrainingService]:
    build_schema(rp_settings.database_url)
    engine = make_engine(rp_settings.database_url)
    svc = TrainingService.from_settings(rp_settings, sessions=session_factory(engine))
    try:
        yield svc
    finally:
        await svc.aclose()
        engine.dispose()
