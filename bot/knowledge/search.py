"""Hybrid retrieval: BM25 over passages, BM25 over titles and product names, and Chroma vectors, fused
per source, catalogue-aware, ordered and gated by the calibrated answer gate (gate.py).

- Three rankings of sources (documents or products): passages by BM25 (jieba words with the
  catalogue's names), titles by BM25 over character bigrams and words (a client's question is often
  a paraphrase of an FAQ's title), and passages by embedding similarity. Reciprocal-rank fusion
  merges them into candidates.
- A question that names a catalogue product (name, short name, alias, code) brings that product's
  entry and the documents about it into the candidates and ahead of the rest. Closed and suspended
  products stay retrievable, so an answer can say they are not purchasable.
- The gate gives each candidate a probability that it answers the question, from features of the
  match (coverage, similarity, BM25, title overlap, rank agreement, product match, unseen words);
  hits are ordered by it, a same-language source first when nearly as good.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from bot.knowledge.embeddings import Embedder
from bot.knowledge.gate import FEATURES
from bot.knowledge.lexical import RARE_LOGP
from bot.knowledge.models import Hit, SearchMode
from bot.knowledge.signals import Signals
from bot.knowledge.snapshot import Snapshot
from bot.knowledge.store import ChromaStore, ChunkFilter
from bot.language import Language

#: Weights of the three rankings in reciprocal-rank fusion (passages, titles, vectors), per `knowledge.ranking`.
#: hybrid: BM25 over passages leads (the strongest single ranking on the dev sets); titles and offline vectors
#: settle its near-ties. bm25: passages alone order the sources; titles and vectors still inform the gate.
FUSION_WEIGHTS: dict[str, dict[str, float]] = {
    "hybrid": {"bm25": 1.0, "title": 0.3, "vector": 0.3},
    "bm25": {"bm25": 1.0, "title": 0.0, "vector": 0.0},
}
#: A same-language source with at least this share of the best source's gate probability is cited first.
NEAR_BEST = 0.85


@dataclass
class Candidate:
    """One source considered for a question, with its best passage and the gate's features."""

    source: int
    chunk: int
    fused: float
    ranks: dict[str, int]
    features: dict[str, float] = field(default_factory=dict)
    about_named: bool = False
    probability: float | None = None
    allowed: list[int] = field(default_factory=list)  # the source's chunks usable here, in order

    def row(self) -> list[float]:
        return [self.features[name] for name in FEATURES]


#: Salience (log-ratio of corpus to general frequency) is scaled by this for the gate.
SALIENCE_SCALE = 10.0


@dataclass
class Query:
    """What a question is made of, once: its terms, title terms, the products it names, and how
    telling each of its words is for this corpus."""

    text: str
    language: Language | None
    terms: list[str]
    title_terms: list[str]
    named: list[str]  # product codes, first mention first
    salience: dict[str, float] = field(default_factory=dict)  # corpus words: log P(corpus) - log P(Chinese)
    foreign: float = 0.0
    unseen: float = 0.0  # idf-weighted share of its terms the corpus never uses
    signals: Signals = field(default_factory=Signals)  # what the question alone says (signals.py)


def _top(scores: np.ndarray, allowed: np.ndarray, n: int) -> list[int]:
    """Indices of the n best positive scores among allowed entries, best first."""
    eligible = np.flatnonzero(allowed & (scores > 0))
    if not len(eligible):
        return []
    if len(eligible) > n:
        eligible = eligible[np.argpartition(-scores[eligible], n - 1)[:n]]
    return [int(i) for i in eligible[np.argsort(-scores[eligible], kind="stable")]]


class HybridSearcher:
    """Ranks allowed sources for a question; `mode` lets the benchmark compare BM25-only and vector-only."""

    def __init__(
        self,
        *,
        store: ChromaStore,
        embedder: Embedder,
        rrf_k: int = 10,
        candidates: int = 50,
        ranking: str = "hybrid",
    ) -> None:
        self._weights = FUSION_WEIGHTS[ranking]
        self._store = store
        self._embedder = embedder
        self._rrf_k = rrf_k
        self._candidates = candidates

    def parse(self, snapshot: Snapshot, text: str, language: Language | None) -> Query:
        tokenizer, catalogue = snapshot.tokenizer, snapshot.catalogue
        signals = snapshot.signals.read(text)
        text = catalogue.corrected(text)  # 季想 → 季享: the words the content uses
        others = catalogue.unknown_variants(text)  # 季享180天 is not 季享90天
        named = [
            p.code
            for p in catalogue.named(text)
            if not any(o.startswith(n) for o in others for n in catalogue.names(p))
        ]
        # A quantity in words the content never writes that way (十天, 四点) is a detail of the question,
        # not its topic: left out, it neither lowers the coverage nor counts as an unseen word.
        index = snapshot.index
        terms = [t for t in tokenizer.tokens(text) if not (tokenizer.is_quantity(t) and index.corpus_logp(t) is None)]
        salience: dict[str, float] = {}
        foreign = 0
        for term in set(terms):
            corpus = snapshot.index.corpus_logp(term)
            general = tokenizer.general_logp(term)
            if corpus is not None:
                salience[term] = (corpus - general) / SALIENCE_SCALE
            elif general < RARE_LOGP:
                foreign += 1
        return Query(
            text=text,
            language=language,
            terms=terms,
            title_terms=tokenizer.bigrams(text) + terms,
            named=named,
            salience=salience,
            foreign=foreign / len(set(terms)) if terms else 0.0,
            unseen=snapshot.index.unseen_share(terms),
            signals=signals,
        )

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
        """The k best sources, each with its most relevant allowed passage, best first."""
        parsed = self.parse(snapshot, query, language)
        candidates = self.candidates(snapshot, parsed, flt, mode=mode, n=k)
        if mode == "hybrid" and snapshot.gate is not None and candidates:
            probabilities = snapshot.gate.probabilities(np.asarray([c.row() for c in candidates]))
            for candidate, p in zip(candidates, probabilities, strict=True):
                candidate.probability = float(p)
            candidates = prefer_language(snapshot, candidates, language, snapshot.gate.threshold)
        return [self._hit(snapshot, c, rank) for rank, c in enumerate(candidates, start=1)]

    def candidates(
        self,
        snapshot: Snapshot,
        query: Query,
        flt: ChunkFilter,
        *,
        mode: SearchMode = "hybrid",
        n: int = 4,
        nearest: list[tuple[int, float]] | None = None,
    ) -> list[Candidate]:
        """The n best sources by fused rank (named products' sources first), with their features.

        `nearest` is the unfiltered vector search for the question when the caller did it already
        (calibration batches hundreds of questions into one Chroma call).
        """
        if not len(snapshot) or not query.text.strip():
            return []
        mask = snapshot.mask(flt)
        if not mask.any():
            return []
        allowed_sources = np.zeros(len(snapshot.sources), dtype=bool)
        allowed_sources[snapshot.source_of[mask]] = True
        chunk_bm25 = snapshot.index.scores(query.terms) if mode != "vector" else np.zeros(len(snapshot))
        similar: dict[int, float] = {}
        rankings: dict[str, list[int]] = {}
        best_chunk: dict[int, int] = {}
        if mode != "vector":
            rankings["bm25"] = self._collapse(snapshot, _top(chunk_bm25, mask, self._candidates * 3), best_chunk)
        if mode == "hybrid":
            rankings["title"] = _top(snapshot.titles.scores(query.title_terms), allowed_sources, self._candidates)
        if mode != "bm25":
            similar = self._similar(snapshot, query.text, flt, mask, nearest)
            by_similarity = sorted((i for i in similar if mask[i]), key=lambda i: -similar[i])
            rankings["vector"] = self._collapse(snapshot, by_similarity, best_chunk)
        fused: dict[int, float] = {}
        ranks: dict[int, dict[str, int]] = {}
        for name, ranking in rankings.items():
            for rank, source in enumerate(ranking[: self._candidates], start=1):
                weight = self._weights[name] if mode == "hybrid" else 1.0  # bm25 / vector: one ranking
                fused[source] = fused.get(source, 0.0) + weight / (self._rrf_k + rank)
                ranks.setdefault(source, {})[name] = rank
        named = {s for code in query.named for s in snapshot.specific.get(code, ()) if allowed_sources[s]}
        if mode == "hybrid":
            for source in named:
                fused.setdefault(source, 0.0)
                ranks.setdefault(source, {})
        ordered = sorted(fused, key=lambda s: (mode == "hybrid" and s not in named, -fused[s], s))[:n]
        top_fused = max(fused.values(), default=0.0) or 1.0
        runner_up = sorted(fused.values(), reverse=True)[1:2] or [0.0]
        floor = min(similar.values(), default=0.0)
        out = []
        for source in ordered:
            allowed = [i for i in snapshot.members[source] if mask[i]]
            chunk = self._best_chunk(snapshot, query, allowed, similar, floor, best_chunk.get(source))
            candidate = Candidate(
                source=source,
                chunk=chunk,
                fused=fused[source],
                ranks=ranks[source],
                about_named=source in named,
                allowed=allowed,
            )
            best_other = runner_up[0] if fused[source] >= top_fused else top_fused
            margin = max(-1.0, (fused[source] - best_other) / top_fused)
            candidate.features = self._features(
                snapshot, query, candidate, chunk_bm25, similar.get(chunk, floor), margin
            )
            out.append(candidate)
        return out

    @staticmethod
    def _collapse(snapshot: Snapshot, chunks: Sequence[int], best_chunk: dict[int, int]) -> list[int]:
        """Chunk ranking → source ranking (each source at its best chunk's place)."""
        out: list[int] = []
        seen: set[int] = set()
        for index in chunks:
            source = int(snapshot.source_of[index])
            if source not in seen:
                seen.add(source)
                out.append(source)
                best_chunk.setdefault(source, index)
        return out

    def nearest(self, snapshot: Snapshot, texts: Sequence[str], flt: ChunkFilter) -> list[list[tuple[int, float]]]:
        """Vector search for several questions at once (one embedding batch): what `_similar` would find
        for each (calibration asks hundreds of questions)."""
        vectors = np.asarray(self._embedder.embed_documents(list(texts)), dtype=np.float32)  # == embed_query each
        n = min(len(snapshot), self._candidates * 2)
        if snapshot.vectors is not None:
            return snapshot.nearest(vectors, n, snapshot.mask(flt))
        return [_positions(snapshot, row) for row in self._store.query_many(list(vectors), n)]

    def _similar(
        self,
        snapshot: Snapshot,
        text: str,
        flt: ChunkFilter,
        mask: np.ndarray,
        nearest: list[tuple[int, float]] | None,
    ) -> dict[int, float]:
        """Cosine similarity of the nearest chunks (by position). A small index is searched exactly, among
        the allowed chunks only (snapshot.py). Chroma's filtered queries are slow (~40 ms at 10k chunks),
        so a large one is queried unfiltered and filtered here; only when too few allowed chunks come back
        is Chroma asked again with a `where`."""
        vector: np.ndarray | None = None
        if nearest is None:
            vector = np.asarray(self._embedder.embed_query(text), dtype=np.float32)
            n = min(len(snapshot), self._candidates * 2)
            if snapshot.vectors is not None:
                nearest = snapshot.nearest(vector, n, mask)[0]
            else:
                nearest = _positions(snapshot, self._store.query(vector, n))
        wanted = min(self._candidates, int(mask.sum()))
        if snapshot.vectors is None and sum(1 for i, _ in nearest if mask[i]) < wanted:
            if vector is None:
                vector = np.asarray(self._embedder.embed_query(text), dtype=np.float32)
            nearest = nearest + _positions(snapshot, self._store.query(vector, wanted, flt))
        return {i: max(0.0, min(1.0, s)) for i, s in nearest}

    @staticmethod
    def _best_chunk(
        snapshot: Snapshot,
        query: Query,
        allowed: list[int],
        similar: dict[int, float],
        floor: float,
        preferred: int | None,
    ) -> int:
        """The source's allowed passage with the best blend of term coverage and similarity."""

        def quality(i: int) -> tuple[float, bool]:
            return snapshot.index.coverage(query.terms, i) + similar.get(i, floor), i == preferred

        return max(allowed, key=quality)

    @staticmethod
    def _features(
        snapshot: Snapshot,
        query: Query,
        candidate: Candidate,
        chunk_bm25: np.ndarray,
        similarity: float,
        margin: float,
    ) -> dict[str, float]:
        index, titles, source = snapshot.index, snapshot.titles, candidate.source
        members = snapshot.members[source]
        bm25 = float(chunk_bm25[members].max()) if len(chunk_bm25) else 0.0
        mass = sum(index.term_weight(t) for t in dict.fromkeys(query.terms)) or 1.0
        title_terms = snapshot.title_terms[source]
        shared = len(title_terms & set(query.title_terms))
        chunk = snapshot.chunks[candidate.chunk]
        named = bool(query.named)
        return {
            "coverage": index.coverage(query.terms, candidate.chunk),
            "similarity": similarity,
            "bm25": bm25 / mass,
            "title_query": titles.coverage(query.title_terms, source),
            "title_source": shared / len(title_terms) if title_terms else 0.0,
            "rr_bm25": 1.0 / candidate.ranks["bm25"] if "bm25" in candidate.ranks else 0.0,
            "rr_vector": 1.0 / candidate.ranks["vector"] if "vector" in candidate.ranks else 0.0,
            "rr_title": 1.0 / candidate.ranks["title"] if "title" in candidate.ranks else 0.0,
            "margin": margin,
            "named_about": float(candidate.about_named),
            "named_other": float(named and not candidate.about_named),
            "same_language": float(query.language is None or chunk.language == query.language),
            "salient": max(query.salience.values(), default=-1.0),
            "salient_hit": max(
                (v for t, v in query.salience.items() if index.contains(candidate.chunk, t)), default=-1.0
            ),
            "foreign": query.foreign,
            "unseen": query.unseen,
            "elsewhere": float(query.signals.elsewhere),
            "unknown_name": float(query.signals.unknown_name),
            "absent_topic": float(query.signals.absent_topic),
            "personal": float(query.signals.personal),
            "terms": math.log1p(len(set(query.terms))),
        }

    @staticmethod
    def _hit(snapshot: Snapshot, candidate: Candidate, rank: int) -> Hit:
        chunk = snapshot.chunks[candidate.chunk]
        f = candidate.features
        blend = 0.5 * f["coverage"] + 0.5 * f["similarity"]
        return Hit(
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
            score=round(candidate.fused, 6),
            relevance=round(candidate.probability if candidate.probability is not None else blend, 4),
            coverage=round(f["coverage"], 4),
            similarity=round(f["similarity"], 4),
            bm25_rank=candidate.ranks.get("bm25"),
            vector_rank=candidate.ranks.get("vector"),
            title_rank=candidate.ranks.get("title"),
            about_named=candidate.about_named,
            passages=[
                snapshot.chunks[i].text for i in candidate.allowed if snapshot.chunks[i].language == chunk.language
            ],
        )


def _positions(snapshot: Snapshot, found: list[tuple[str, float]]) -> list[tuple[int, float]]:
    """Chroma's (chunk id, similarity) as snapshot positions (a chunk indexed after this snapshot is skipped)."""
    return [(snapshot.position[cid], s) for cid, s in found if cid in snapshot.position]


def prefer_language(
    snapshot: Snapshot, candidates: list[Candidate], language: Language | None, threshold: float
) -> list[Candidate]:
    """A same-language source the gate finds nearly as likely as an other-language best, and that covers
    nearly as much of the question, goes first: a Chinese question is answered from Chinese content when
    there is some (often the translation). A product is structured data, spoken in either language."""
    first = snapshot.chunks[candidates[0].chunk] if candidates else None
    if first is None or language is None or first.language == language or first.kind == "product":
        return candidates
    top, covered = candidates[0].probability or 0.0, candidates[0].features["coverage"]
    for i, candidate in enumerate(candidates[1:], start=1):
        p = candidate.probability or 0.0
        same = snapshot.chunks[candidate.chunk].language == language
        near = p >= max(threshold, NEAR_BEST * top) and candidate.features["coverage"] >= NEAR_BEST * covered
        if same and near and candidate.about_named == candidates[0].about_named:
            return [candidate, *candidates[:i], *candidates[i + 1 :]]
    return candidates
