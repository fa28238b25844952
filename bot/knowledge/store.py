"""The Chroma adapter: the only module that imports chromadb.

Embedded (`PersistentClient` under the data directory) by default; `knowledge.chroma_mode: http`
points it at a Chroma server (`HttpClient`). Chroma errors become `KnowledgeUnavailable`.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Collection, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, Literal

import chromadb
import numpy as np
from chromadb.config import Settings as ChromaSettings

from bot.errors import AdvisorError, ConfigError, KnowledgeUnavailable
from bot.knowledge.models import CHANNELS, Chunk

_BATCH = 1000
NO_END = 99991231


def day_number(value: date | None, default: int) -> int:
    """yyyymmdd as an int, so Chroma can compare dates in a `where` filter."""
    return value.year * 10000 + value.month * 100 + value.day if value else default


def _from_day_number(value: Any) -> date | None:
    number = int(value or 0)
    if number in (0, NO_END):
        return None
    return date(number // 10000, number // 100 % 100, number % 100)


@dataclass(frozen=True)
class ChunkFilter:
    """Which chunks may be used: valid on `day`, allowed on `channel`, meant for `audience`."""

    day: date
    channel: str | None = None
    audience: str | None = None


@dataclass(frozen=True)
class StoredChunk:
    """A chunk as held in the store, with the BM25 tokens computed at ingestion (and its vector, when
    asked for: small indexes are searched exactly, in memory)."""

    chunk: Chunk
    tokens: list[str]
    vector: np.ndarray | None = None


def _metadata(chunk: Chunk, tokens: Sequence[str]) -> dict[str, str | int | bool]:
    meta: dict[str, str | int | bool] = {
        "source_key": chunk.source_key,
        "cite_id": chunk.cite_id,
        "title": chunk.title,
        "section": chunk.section,
        "kind": chunk.kind,
        "doc_type": chunk.doc_type,
        "language": chunk.language,
        "status": chunk.status,
        "products": "|".join(chunk.products),
        "tags": "|".join(chunk.tags),
        "audience": "|".join(chunk.audience),
        "valid_from": day_number(chunk.valid_from, 0),
        "valid_until": day_number(chunk.valid_until, NO_END),
        "source_hash": chunk.source_hash,
        "tokens": " ".join(tokens),
        "product_json": chunk.product_json,
    }
    for channel in CHANNELS:
        meta[f"ch_{channel}"] = channel in chunk.channels
    for level in ("all", "C1", "C2", "C3", "C4", "C5"):
        meta[f"aud_{level}"] = level in chunk.audience
    return meta


def _chunk(chunk_id: str, text: str, meta: dict[str, Any], vector: Any = None) -> StoredChunk:
    def split(key: str) -> list[str]:
        return [part for part in str(meta.get(key) or "").split("|") if part]

    chunk = Chunk(
        id=chunk_id,
        source_key=str(meta["source_key"]),
        cite_id=str(meta["cite_id"]),
        title=str(meta["title"]),
        text=text,
        section=str(meta.get("section") or ""),
        kind=meta["kind"],
        doc_type=str(meta["doc_type"]),
        language=meta["language"],
        channels=[c for c in CHANNELS if meta.get(f"ch_{c}")],
        audience=split("audience"),
        products=split("products"),
        tags=split("tags"),
        status=str(meta.get("status") or ""),
        valid_from=_from_day_number(meta.get("valid_from")),
        valid_until=_from_day_number(meta.get("valid_until")),
        source_hash=str(meta["source_hash"]),
        product_json=str(meta.get("product_json") or ""),
    )
    tokens = str(meta.get("tokens") or "").split()
    return StoredChunk(chunk=chunk, tokens=tokens, vector=None if vector is None else np.asarray(vector, np.float32))


def where(flt: ChunkFilter) -> dict[str, Any]:
    """The Chroma `where` clause equivalent of a filter (used when post-filtering finds too few)."""
    today = day_number(flt.day, 0)
    clauses: list[dict[str, Any]] = [
        {"valid_from": {"$lte": today}},
        {"valid_until": {"$gte": today}},
    ]
    if flt.channel in CHANNELS:
        clauses.append({f"ch_{flt.channel}": True})
    elif flt.channel:  # a channel we do not know: only content allowed everywhere
        clauses.extend({f"ch_{channel}": True} for channel in CHANNELS)
    if flt.audience:
        clauses.append({"$or": [{"aud_all": True}, {f"aud_{flt.audience}": True}]})
    return {"$and": clauses}


class ChromaStore:
    """Chunks, their vectors and a small state record (ingestion version, embedder fingerprint)."""

    def __init__(
        self,
        *,
        mode: Literal["embedded", "http"],
        collection: str,
        path: Path | None = None,
        host: str = "127.0.0.1",
        port: int = 8001,
    ) -> None:
        self._lock = threading.Lock()
        self._mode, self._path, self._host, self._port = mode, path, host, port
        self._version_file = path / f"{collection}.version" if mode != "http" and path is not None else None
        if mode != "http" and path is None:
            raise ConfigError("knowledge.chroma_mode embedded needs a data directory")
        self._client = self._connect()
        self._name = collection
        try:
            self._chunks = self._open(collection)
            self._state = self._open(f"{collection}-state")
        except KnowledgeUnavailable as exc:
            if "name" in str(exc).lower():
                raise ConfigError(f"knowledge.collection {collection!r} is not a valid name: {exc}") from exc
            raise

    def _connect(self) -> Any:
        settings = ChromaSettings(anonymized_telemetry=False, allow_reset=True)
        with self._translate("open the Chroma store"):
            if self._mode == "http":
                return chromadb.HttpClient(host=self._host, port=self._port, settings=settings)
            assert self._path is not None
            self._path.mkdir(parents=True, exist_ok=True)
            return chromadb.PersistentClient(path=str(self._path), settings=settings)

    def reopen(self) -> None:
        """See another process's writes (embedded mode): Chroma's embedded client keeps its vector index
        in memory and never reloads it, so after `advisor kb ingest` in another process its queries
        miss the new chunks and reading their vectors fails. A new client reads the files afresh.

        (Chroma shares one client system per path within a process: it is rebuilt only when this
        store holds the last reference, which is the app's case; in-process writers share it anyway.)
        """
        if self._mode == "http":
            return
        with self._lock, self._translate("reopen the Chroma store"):
            close = getattr(self._client, "close", None)
            if close is not None:
                close()
            self._client = self._connect()
            self._chunks = self._open(self._name)
            self._state = self._open(f"{self._name}-state")

    def _open(self, name: str) -> Any:
        # One HNSW build thread and a wider search: the same content gives (nearly always) the same nearest
        # chunks, so the gate calibrated on it varies less from one ingestion to the next (multi-threaded
        # builds differ run to run). Applies to new collections; an existing one keeps its configuration.
        with self._translate(f"open collection {name}"):
            return self._client.get_or_create_collection(
                name,
                configuration={"hnsw": {"space": "cosine", "num_threads": 1, "ef_search": 200}},
                embedding_function=None,
            )

    @contextmanager
    def _translate(self, what: str) -> Iterator[None]:
        """Chroma raises a zoo (ChromaError, Rust binding errors, httpx, ValueError): ours at the edge."""
        try:
            yield
        except AdvisorError:
            raise
        except Exception as exc:
            raise KnowledgeUnavailable(f"could not {what}: {exc}") from exc

    def count(self) -> int:
        with self._lock, self._translate("count chunks"):
            return int(self._chunks.count())

    def load(self, *, vectors: bool = False) -> list[StoredChunk]:
        """Every chunk with its metadata (and its vector if `vectors`), paged."""
        out: list[StoredChunk] = []
        include = ["documents", "metadatas", *(["embeddings"] if vectors else [])]
        with self._lock, self._translate("read chunks"):
            offset = 0
            while True:
                page = self._chunks.get(include=include, limit=5000, offset=offset)
                ids = page["ids"]
                embeddings = page.get("embeddings") if vectors else None
                found = [None] * len(ids) if embeddings is None else list(embeddings)
                rows = zip(ids, page["documents"] or [], page["metadatas"] or [], found, strict=True)
                out.extend(
                    _chunk(chunk_id, text or "", dict(meta or {}), vector) for chunk_id, text, meta, vector in rows
                )
                if len(ids) < 5000:
                    return out
                offset += len(ids)

    def source_hashes(self) -> dict[str, str]:
        """source key → content hash of what is indexed now."""
        return {s.chunk.source_key: s.chunk.source_hash for s in self.load()}

    def add(self, chunks: Sequence[Chunk], tokens: Sequence[Sequence[str]], vectors: Sequence[Sequence[float]]) -> None:
        with self._lock, self._translate("write chunks"):
            for start in range(0, len(chunks), _BATCH):
                part = chunks[start : start + _BATCH]
                self._chunks.upsert(
                    ids=[c.id for c in part],
                    documents=[c.text for c in part],
                    metadatas=[_metadata(c, t) for c, t in zip(part, tokens[start : start + _BATCH], strict=True)],
                    embeddings=np.asarray(vectors[start : start + _BATCH], dtype=np.float32),
                )

    def delete_sources(self, keys: Collection[str]) -> None:
        if not keys:
            return
        with self._lock, self._translate("delete chunks"):
            ordered = sorted(keys)
            for start in range(0, len(ordered), _BATCH):
                self._chunks.delete(where={"source_key": {"$in": ordered[start : start + _BATCH]}})

    def query(
        self, vector: Sequence[float] | np.ndarray, n: int, flt: ChunkFilter | None = None
    ) -> list[tuple[str, float]]:
        """Nearest chunks as (id, cosine similarity), best first."""
        return self.query_many([vector], n, flt)[0]

    def query_many(
        self, vectors: Sequence[Sequence[float] | np.ndarray], n: int, flt: ChunkFilter | None = None
    ) -> list[list[tuple[str, float]]]:
        """`query` for several vectors in one call (calibration asks hundreds of questions)."""
        if n <= 0 or not len(vectors):
            return [[] for _ in vectors]
        with self._lock, self._translate("search vectors"):
            result = self._chunks.query(
                query_embeddings=np.asarray(vectors, dtype=np.float32),
                n_results=n,
                where=where(flt) if flt else None,
                include=["distances"],
            )
        ids = result["ids"] or [[] for _ in vectors]
        distances = result.get("distances") or [[] for _ in vectors]
        return [
            [(chunk_id, 1.0 - float(d)) for chunk_id, d in zip(row_ids, row_d, strict=True)]
            for row_ids, row_d in zip(ids, distances, strict=True)
        ]

    def vectors(self, ids: Sequence[str]) -> dict[str, np.ndarray]:
        if not ids:
            return {}
        with self._lock, self._translate("read vectors"):
            page = self._chunks.get(ids=list(ids), include=["embeddings"])
        embeddings = page.get("embeddings")
        if embeddings is None:
            return {}
        return {chunk_id: np.asarray(e, dtype=np.float64) for chunk_id, e in zip(page["ids"], embeddings, strict=True)}

    def reset(self) -> None:
        """Drop every chunk and the state record."""
        with self._lock, self._translate("reset the store"):
            for name in (self._name, f"{self._name}-state"):
                try:
                    self._client.delete_collection(name)
                except Exception as exc:  # deleting a missing collection is fine
                    if "not" not in str(exc).lower():
                        raise
        self._chunks = self._open(self._name)
        self._state = self._open(f"{self._name}-state")

    def read_state(self) -> dict[str, str]:
        with self._lock, self._translate("read the store state"):
            page = self._state.get(ids=["state"], include=["metadatas"])
        metas = page.get("metadatas") or []
        return {k: str(v) for k, v in (metas[0] or {}).items()} if metas else {}

    def write_state(self, state: dict[str, str]) -> None:
        with self._lock, self._translate("write the store state"):
            self._state.upsert(ids=["state"], embeddings=[[1.0, 0.0]], metadatas=[dict(state)])
        if self._version_file is not None and "version" in state:
            tmp = self._version_file.with_suffix(f".{os.getpid()}.tmp")
            tmp.write_text(state["version"], encoding="utf-8")
            tmp.replace(self._version_file)

    def version(self) -> str:
        """The index version, cheaply: a file beside an embedded store (a stat and a read, checked before
        every question), else the state record."""
        if self._version_file is not None:
            try:
                return self._version_file.read_text(encoding="utf-8").strip()
            except OSError:
                pass
        return self.read_state().get("version", "")

    def close(self) -> None:
        with self._translate("close the store"):
            close = getattr(self._client, "close", None)
            if close is not None:
                close()
