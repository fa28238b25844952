"""Hybrid retrieval: BM25 over jieba tokens + Chroma vectors, fused with reciprocal-rank fusion.

RRF orders the hits but its value says nothing about whether the top hit answers the question
(it is 2/61 for a hit ranked first by both lists, however poor the match). The answer threshold is
therefore applied to `relevance`, a 0-1 score of the hit itself: the IDF-weighted share of the
query's terms the passage contains (`coverage`), blended with the cosine similarity of the
embeddings. Calibrated on the shipped corpus by tests/bench/bench_retrieval.py.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

import numpy as np

from bot.knowledge.embeddings import Embedder
from bot.knowledge.lexical import LexicalIndex, Tokenizer
from bot.knowledge.models import CHANNELS, Chunk, Hit, Product, SearchMode
from bot.knowledge.store import NO_END, ChromaStore, ChunkFilter, StoredChunk, day_number
from bot.language import Language

#: Weight of the lexical coverage in `relevance`; the rest is embedding similarity.
COVERAGE_WEIGHT = 0.5


@dataclass
class Snapshot:
    """An immutable view of one index version: chunks, the BM25 index and arrays for filtering."""

    chunks: list[Chunk]
    index: LexicalIndex
    version: str = ""
    position: dict[str, int] = field(default_factory=dict)
    valid_from: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    valid_until: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    flags: dict[str, np.ndarray] = field(default_factory=dict)

    @classmethod
    def build(cls, stored: Sequence[StoredChunk], version: str = "") -> Snapshot:
        chunks = [s.chunk for s in stored]
        snapshot = cls(chunks=chunks, index=LexicalIndex([s.tokens for s in stored]), version=version)
        snapshot.position = {c.id: i for i, c in enumerate(chunks)}
        snapshot.valid_from = np.asarray([day_number(c.valid_from, 0) for c in chunks], dtype=np.int64)
        snapshot.valid_until = np.asarray([day_number(c.valid_until, NO_END) for c in chunks], dtype=np.int64)
        for channel in CHANNELS:
            snapshot.flags[f"ch_{channel}"] = np.asarray([channel in c.channels for c in chunks], dtype=bool)
        for level in ("all", "C1", "C2", "C3", "C4", "C5"):
            snapshot.flags[f"aud_{level}"] = np.asarray([level in c.audience for c in chunks], dtype=bool)
        return snapshot

    def __len__(self) -> int:
        return len(self.chunks)

    def mask(self, flt: ChunkFilter) -> np.ndarray:
        """Chunks usable now: valid today (re-checked at answer time), on this channel, for this audience."""
        today = day_number(flt.day, 0)
        ok = (self.valid_from <= today) & (self.valid_until >= today)
        if flt.channel in CHANNELS:
            ok &= self.flags[f"ch_{flt.channel}"]
        elif flt.channel:  # a channel we do not know: only content allowed everywhere
            for channel in CHANNELS:
                ok &= self.flags[f"ch_{channel}"]
        if flt.audience:
            ok &= self.flags["aud_all"] | self.flags.get(f"aud_{flt.audience}", np.zeros(len(self), dtype=bool))
        return ok

    def products(self, day: date) -> list[Product]:
        """The catalogue as indexed, still valid on `day` (closed and suspended ones included)."""
        out = [Product.model_validate_json(c.product_json) for c in self.chunks if c.product_json]
        return sorted((p for p in out if p.validity(day) == "valid"), key=lambda p: p.code)


def _top(scores: np.ndarray, mask: np.ndarray, n: int) -> list[int]:
    """Indices of the n best positive scores among allowed chunks, best first."""
    eligible = np.flatnonzero(mask & (scores > 0))
    if not len(eligible):
        return []
    if len(eligible) > n:
        eligible = eligible[np.argpartition(-scores[eligible], n - 1)[:n]]
    return [int(i) for i in eligible[np.argsort(-scores[eligible], kind="stable")]]


class HybridSearcher:
    """Ranks allowed chunks for a query; `mode` lets the benchmark compare BM25-only and vector-only."""

    def __init__(
        self,
        *,
        store: ChromaStore,
        embedder: Embedder,
        tokenizer: Tokenizer,
        rrf_k: int = 60,
        candidates: int = 50,
    ) -> None:
        self._store = store
        self._embedder = embedder
        self._tokenizer = tokenizer
        self._rrf_k = rrf_k
        self._candidates = candidates

    def search(
        self,
        snapshot: Snapshot,
        query: str,
        flt: ChunkFilter,
        *,
        k: int,
        language: Language | None = None,
        mode: SearchMode = "hybrid",
    ) -> list[Hit]:
        """The k best sources (documents or products), each with its most relevant allowed chunk.

        Each ranking is collapsed to one entry per source before fusion, so a product with six
        passages cannot crowd the other sources out of the top ranks.
        """
        if not len(snapshot) or not query.strip():
            return []
        mask = snapshot.mask(flt)
        allowed = int(mask.sum())
        if not allowed:
            return []
        terms = self._tokenizer.tokens(query)
        vector = np.asarray(self._embedder.embed_query(query), dtype=np.float64)
        lexical = _top(snapshot.index.scores(terms), mask, self._candidates) if mode != "vector" else []
        similar: dict[int, float] = {}
        semantic: list[int] = []
        if mode != "bm25":
            semantic, similar = self._vector_ranking(snapshot, vector, flt, mask, allowed, k)
        fused: dict[str, float] = {}
        members: dict[str, list[int]] = {}
        source_ranks: list[dict[str, int]] = []
        for ranking in (lexical, semantic):
            ranks: dict[str, int] = {}
            for index in ranking:
                source = snapshot.chunks[index].source_key
                members.setdefault(source, [])
                if index not in members[source]:
                    members[source].append(index)
                if source not in ranks:
                    ranks[source] = len(ranks) + 1
                    fused[source] = fused.get(source, 0.0) + 1.0 / (self._rrf_k + ranks[source])
            source_ranks.append(ranks)
        # Ties (common when only one list ranks a source) go to the question's language. Damping the
        # other language more than that lost more good hits than it gained on the benchmark; the
        # answer step prefers a same-language passage when it is nearly as relevant (extractive.choose).
        order = sorted(
            fused,
            key=lambda src: (-fused[src], snapshot.chunks[members[src][0]].language != language, src),
        )[:k]
        self._fill_similarity(snapshot, vector, [i for src in order for i in members[src]], similar)
        hits = []
        for rank, source in enumerate(order, start=1):
            scored = [(self._relevance(snapshot, terms, i, similar), i) for i in members[source]]
            (relevance, coverage, similarity), index = max(scored)
            chunk = snapshot.chunks[index]
            hits.append(
                Hit(
                    rank=rank,
                    chunk_id=chunk.id,
                    id=chunk.cite_id,
                    title=chunk.title,
                    text=chunk.text,
                    section=chunk.section,
                    kind=chunk.kind,
                    doc_type=chunk.doc_type,
                    language=chunk.language,
                    products=chunk.products,
                    status=chunk.status,
                    score=round(fused[source], 6),
                    relevance=round(relevance, 4),
                    coverage=round(coverage, 4),
                    similarity=round(similarity, 4),
                    bm25_rank=source_ranks[0].get(source),
                    vector_rank=source_ranks[1].get(source),
                )
            )
        return hits

    @staticmethod
    def _relevance(
        snapshot: Snapshot, terms: list[str], index: int, similar: dict[int, float]
    ) -> tuple[float, float, float]:
        coverage = snapshot.index.coverage(terms, index)
        similarity = max(0.0, min(1.0, similar.get(index, 0.0)))
        return COVERAGE_WEIGHT * coverage + (1 - COVERAGE_WEIGHT) * similarity, coverage, similarity

    def _vector_ranking(
        self, snapshot: Snapshot, vector: np.ndarray, flt: ChunkFilter, mask: np.ndarray, allowed: int, k: int
    ) -> tuple[list[int], dict[int, float]]:
        """Chroma's filtered queries are slow (~40 ms at 10k chunks), so query unfiltered and filter
        here; only when too few allowed chunks come back is Chroma asked again with a `where`."""
        wanted = min(self._candidates, allowed)
        results = self._store.query(vector, min(len(snapshot), self._candidates * 2))
        if sum(1 for cid, _ in results if self._allowed(snapshot, mask, cid)) < min(wanted, k):
            results = self._store.query(vector, wanted, flt)
        ranking: list[int] = []
        similar: dict[int, float] = {}
        for chunk_id, similarity in results:
            index = snapshot.position.get(chunk_id)
            if index is None:
                continue  # indexed after this snapshot was taken
            similar[index] = similarity
            if mask[index] and len(ranking) < wanted:
                ranking.append(index)
        return ranking, similar

    @staticmethod
    def _allowed(snapshot: Snapshot, mask: np.ndarray, chunk_id: str) -> bool:
        index = snapshot.position.get(chunk_id)
        return index is not None and bool(mask[index])

    def _fill_similarity(
        self, snapshot: Snapshot, vector: np.ndarray, order: list[int], similar: dict[int, float]
    ) -> None:
        """Cosine similarity for the hits the vector list did not rank (fetched from Chroma)."""
        missing = [snapshot.chunks[i].id for i in order if i not in similar]
        if not missing:
            return
        for chunk_id, stored in self._store.vectors(missing).items():
            similar[snapshot.position[chunk_id]] = float(np.dot(stored, vector))
