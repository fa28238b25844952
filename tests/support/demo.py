"""The shipped demo content (knowledge_base/) in a real embedded Chroma store, once per test session.

Composition and the outgoing guard are tested on the content a new user meets first. Dates are fixed
(DEMO_TODAY) so validity windows never make a test flaky.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from bot.knowledge.embeddings import HashingEmbedder
from bot.knowledge.service import KnowledgeService
from bot.knowledge.store import ChromaStore
from bot.settings import KnowledgeSettings

DEMO = Path(__file__).resolve().parents[2] / "knowledge_base"
DEMO_TODAY = date(2026, 11, 24)


@pytest.fixture(scope="session")
def demo_knowledge(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KnowledgeService]:
    """The demo content ingested with the shipped defaults (hashing embeddings), no LLM."""
    path = tmp_path_factory.mktemp("demo-chroma")
    settings = KnowledgeSettings(collection="demo_content", refresh_s=3600)
    service = KnowledgeService(
        knowledge=settings,
        open_store=lambda: ChromaStore(mode="embedded", collection=settings.collection, path=path),
        make_embedder=lambda tokenizer: HashingEmbedder(tokenizer, dimensions=512),
        today=lambda: DEMO_TODAY,
    )
    report = service.ingest(DEMO, progress=False)
    assert report.ok, report.details()
    yield service
