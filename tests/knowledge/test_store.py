"""The Chroma adapter, embedded and over HTTP (a real `chroma run` server on loopback)."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import httpx
import pytest

from bot.errors import ConfigError, KnowledgeUnavailable
from bot.knowledge.models import Chunk
from bot.knowledge.service import KnowledgeService
from bot.knowledge.store import ChromaStore, ChunkFilter
from bot.settings import KnowledgeSettings
from tests.knowledge.conftest import TODAY, ServiceFactory


def _chunk(n: int, **extra: object) -> Chunk:
    fields: dict[str, object] = {
        "id": f"doc:d{n}#0",
        "source_key": f"doc:d{n}",
        "cite_id": f"d{n}",
        "title": f"标题{n}",
        "text": f"正文{n}",
        "kind": "doc",
        "doc_type": "faq",
        "language": "zh",
        "channels": ["web", "voice"],
        "audience": ["all"],
        "products": ["WM1"],
        "source_hash": f"h{n}",
        **extra,
    }
    return Chunk.model_validate(fields)


def test_round_trip_query_and_delete(tmp_path: Path) -> None:
    store = ChromaStore(mode="embedded", collection="unit_test", path=tmp_path)
    chunks = [_chunk(1, valid_until=date(2027, 1, 1), tags=["赎回"]), _chunk(2, channels=["web"], audience=["C3"])]
    store.add(chunks, [["赎回", "到账"], ["费用"]], [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
    loaded = {s.chunk.id: s for s in store.load()}
    assert loaded["doc:d1#0"].chunk == chunks[0] and loaded["doc:d1#0"].tokens == ["赎回", "到账"]
    assert loaded["doc:d2#0"].chunk == chunks[1]
    assert store.query([0.9, 0.1, 0.0], 2)[0][0] == "doc:d1#0"
    voice = store.query([0.0, 1.0, 0.0], 2, ChunkFilter(day=TODAY, channel="voice"))
    assert [cid for cid, _ in voice] == ["doc:d1#0"]  # the `where` translation of the filter
    c1 = store.query([0.0, 1.0, 0.0], 2, ChunkFilter(day=TODAY, audience="C1"))
    assert [cid for cid, _ in c1] == ["doc:d1#0"]
    expired = store.query([1.0, 0.0, 0.0], 2, ChunkFilter(day=date(2027, 1, 2)))
    assert [cid for cid, _ in expired] == ["doc:d2#0"]
    assert store.source_hashes() == {"doc:d1": "h1", "doc:d2": "h2"}
    assert set(store.vectors(["doc:d2#0"])) == {"doc:d2#0"}
    store.delete_sources({"doc:d1"})
    assert store.count() == 1
    store.write_state({"version": "v1"})
    assert store.read_state() == {"version": "v1"}
    store.reset()
    assert store.count() == 0 and store.read_state() == {}
    store.close()


def test_bad_collection_name_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"knowledge\.collection"):
        ChromaStore(mode="embedded", collection="x", path=tmp_path)


def test_unreachable_server_is_knowledge_unavailable() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(KnowledgeUnavailable):
        ChromaStore(mode="http", collection="unit_test", host="127.0.0.1", port=port)


def test_rare_channel_content_is_found_when_post_filtering_finds_too_few(
    make_service: ServiceFactory, corpus: Path
) -> None:
    service = make_service(knowledge=KnowledgeSettings(collection="test_content", candidates=1, refresh_s=0))
    service.ingest(corpus, progress=False)
    assert service.search_sync("您好，本次通话将全程录音", channel="voice", k=2)[0].id == "script-call-zh"


@pytest.fixture(scope="module")
def chroma_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    binary = shutil.which("chroma") or str(Path(__file__).resolve().parents[2] / ".venv" / "bin" / "chroma")
    if not Path(binary).exists():
        pytest.skip("the chroma CLI is not installed")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    path = tmp_path_factory.mktemp("chroma-server")
    process = subprocess.Popen(
        [binary, "run", "--path", str(path), "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/api/v2/heartbeat", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.3)
        else:
            pytest.skip("chroma server did not start within 30 s")
        yield port
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_http_mode_against_a_chroma_server(chroma_server: int, corpus: Path, make_service: ServiceFactory) -> None:
    def open_store() -> ChromaStore:
        return ChromaStore(mode="http", collection="http_test", host="127.0.0.1", port=chroma_server)

    service: KnowledgeService = make_service(open_store=open_store)
    report = service.ingest(corpus, progress=False)
    assert report.count("indexed") > 0
    assert service.search_sync("稳享的管理费是多少", k=1)[0].id == "WM100"
    assert service.ingest(corpus, progress=False).count("indexed") == 0  # idempotent over HTTP too
