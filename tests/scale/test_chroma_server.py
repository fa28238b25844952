"""The knowledge store on a Chroma server (`chroma run`, the `http` mode): one app process ingests, another
reads what it ingested, and keeps reading after the first closes its store."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.knowledge.embeddings import HashingEmbedder
from bot.knowledge.service import KnowledgeService
from bot.knowledge.store import ChromaStore
from bot.settings import KnowledgeSettings
from tests.support.demo import DEMO, DEMO_TODAY
from tests.support.scale_servers import chroma_server

pytestmark = pytest.mark.scale


@pytest.fixture(scope="module")
def chroma_port() -> Iterator[int]:
    with chroma_server() as port:
        yield port


def _service(port: int, tmp_path: Path) -> KnowledgeService:
    settings = KnowledgeSettings(chroma_mode="http", chroma_port=port, collection="shared")
    return KnowledgeService(
        knowledge=settings,
        open_store=lambda: ChromaStore(mode="http", collection="shared", port=port),
        make_embedder=lambda tokenizer: HashingEmbedder(tokenizer, dimensions=512),
        today=lambda: DEMO_TODAY,
    )


async def test_one_process_ingests_and_every_process_reads(chroma_port: int, tmp_path: Path) -> None:
    writer, reader = _service(chroma_port, tmp_path), _service(chroma_port, tmp_path)
    assert not reader.ready()  # an empty server: not ready
    assert writer.ingest(DEMO, progress=False).ok
    assert reader.ready() and reader.products() == writer.products()
    answer = await reader.answer("货币基金赎回多久到账？", channel="web", language="zh")
    assert answer.citations
    await writer.aclose()
    assert reader.ready()  # closing one process's store leaves the other's working
    await reader.aclose()
