"""A real SQLite file per test, built through the Alembic migrations, and a record_lead helper."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from bot.db import make_engine, session_factory
from bot.leads import service
from bot.leads.models import LeadRead
from tests.contacts.schema import build_schema


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


def record(session: Session, **overrides: Any) -> list[LeadRead]:
    """record_lead with the fields a test doesn't care about filled in."""
    fields: dict[str, Any] = {
        "client_key": "c-1",
        "sender_id": "s-1",
        "channel": "web",
        "conversation_id": "s-1",
        "type": "product_interest",
        "intent": "ask_product",
        "confidence": 0.9,
        "product_codes": ["WM001"],
        "score": 60.0,
        "evidence": "我想买稳健理财WM001，大概50万",
    }
    fields.update(overrides)
    return service.record_lead(session, **fields)
