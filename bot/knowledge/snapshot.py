"""An immutable view of one index version: chunks, the lexical indexes, the catalogue and the answer gate.

Built once per ingestion (every process rebuilds it when the store's version changes), so a search
never touches anything but this object and one vector query.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

import numpy as np

from bot.catalogue import Catalogue, fold
from bot.knowledge.gate import GateModel
from bot.knowledge.lexical import LexicalIndex, Tokenizer
from bot.knowledge.models import CHANNELS, Chunk, Product
from bot.knowledge.signals import SignalReader
from bot.knowledge.store import NO_END, ChunkFilter, StoredChunk, day_number

#: A document listing at most this many products is about them (a product's intro, a comparison of two);
#: one listing more is a general document that mentions them (a fee table).
SPECIFIC = 2
#: Indexes up to this many chunks keep their vectors in memory and are searched exactly (a matrix product:
#: about a millisecond at 10,000 chunks of 512 dimensions, ~20 MB). Chroma's HNSW search is approximate and
#: not fully deterministic, which moved the calibrated gate from one ingestion to the next; larger indexes
#: still use it.
EXACT_SEARCH_MAX = 20_000
#: Questions scored against the vectors per matrix product (bounds memory during calibration).
_BATCH = 256


def indexed_products(chunks: Sequence[Chunk]) -> list[Product]:
    """Every product in the index (whatever its validity today), rebuilt from its first chunk."""
    return [Product.model_validate_json(c.product_json) for c in chunks if c.product_json]


def vocabulary(products: Sequence[Product]) -> list[str]:
    """The segmenter's user dictionary for this catalogue: names, short names and aliases."""
    return Catalogue(p.entry() for p in products).vocabulary()


def title_text(chunk: Chunk, product: Product | None) -> str:
    """What a source is called: a document's title; a product's names and aliases."""
    if product is None:
        return chunk.title
    return " ".join([product.name, product.name_en or "", *product.aliases])


@dataclass
class Snapshot:
    """Chunks and, per source (a document or a product), its chunks, title terms and products."""

    chunks: list[Chunk]
    index: LexicalIndex
    tokenizer: Tokenizer
    version: str = ""
    gate: GateModel | None = None
    position: dict[str, int] = field(default_factory=dict)
    valid_from: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    valid_until: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    flags: dict[str, np.ndarray] = field(default_factory=dict)
    sources: list[str] = field(default_factory=list)  # source keys, in first-chunk order
    source_of: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))  # chunk → source
    members: list[list[int]] = field(default_factory=list)  # source → its chunks
    titles: LexicalIndex = field(default_factory=lambda: LexicalIndex([]))  # one "document" per source
    title_terms: list[frozenset[str]] = field(default_factory=list)
    catalogue: Catalogue = field(default_factory=lambda: Catalogue([]))
    about: dict[str, list[int]] = field(default_factory=dict)  # product code → sources about it
    specific: dict[str, list[int]] = field(default_factory=dict)  # ... about it alone or with one other
    text: str = ""  # every title and passage, folded: "does the content ever mention X"
    catalogue_products: list[Product] = field(default_factory=list)  # every indexed product, by code
    signals: SignalReader = field(default_factory=lambda: SignalReader(Catalogue([]), "", [], []))
    vectors: np.ndarray | None = None  # unit rows, one per chunk (None: search Chroma)

    @classmethod
    def build(
        cls, stored: Sequence[StoredChunk], *, tokenizer: Tokenizer, version: str = "", gate: GateModel | None = None
    ) -> Snapshot:
        """`tokenizer` must be the base tokenizer: the catalogue's words are added here, as at ingestion."""
        chunks = [s.chunk for s in stored]
        products = indexed_products(chunks)
        tokenizer = tokenizer.with_vocabulary(vocabulary(products))
        snapshot = cls(
            chunks=chunks,
            index=LexicalIndex([s.tokens for s in stored]),
            tokenizer=tokenizer,
            version=version,
            gate=gate,
        )
        snapshot.position = {c.id: i for i, c in enumerate(chunks)}
        snapshot.vectors = _unit_rows(stored)
        snapshot.valid_from = np.asarray([day_number(c.valid_from, 0) for c in chunks], dtype=np.int64)
        snapshot.valid_until = np.asarray([day_number(c.valid_until, NO_END) for c in chunks], dtype=np.int64)
        for channel in CHANNELS:
            snapshot.flags[f"ch_{channel}"] = np.asarray([channel in c.channels for c in chunks], dtype=bool)
        for level in ("all", "C1", "C2", "C3", "C4", "C5"):
            snapshot.flags[f"aud_{level}"] = np.asarray([level in c.audience for c in chunks], dtype=bool)
        snapshot.catalogue_products = sorted(products, key=lambda p: p.code)
        snapshot._index_sources(products)
        snapshot.text = fold("\n".join(f"{c.title}\n{c.text}" for c in chunks))
        snapshot.signals = SignalReader(
            snapshot.catalogue,
            snapshot.text,
            [fold(c.text) for c in chunks],
            sorted({c.title for c in chunks}),
            ordinary=tokenizer.ends_in_common_word,
        )
        return snapshot

    def _index_sources(self, products: list[Product]) -> None:
        by_code = {p.code: p for p in products}
        number: dict[str, int] = {}
        source_of = []
        for i, chunk in enumerate(self.chunks):
            if chunk.source_key not in number:
                number[chunk.source_key] = len(self.sources)
                self.sources.append(chunk.source_key)
                self.members.append([])
            source_of.append(number[chunk.source_key])
            self.members[number[chunk.source_key]].append(i)
        self.source_of = np.asarray(source_of, dtype=np.int64)
        terms = []
        for members in self.members:
            first = self.chunks[members[0]]
            product = by_code.get(first.cite_id) if first.kind == "product" else None
            text = title_text(first, product)
            terms.append(self.tokenizer.bigrams(text) + self.tokenizer.tokens(text))
        self.titles = LexicalIndex(terms)
        self.title_terms = [frozenset(t) for t in terms]
        self.catalogue = Catalogue((p.entry() for p in products), ordinary=self.tokenizer.is_general_word)
        for s, members in enumerate(self.members):
            codes = self.chunks[members[0]].products
            for code in codes:
                self.about.setdefault(code, []).append(s)
                if len(codes) <= SPECIFIC:
                    self.specific.setdefault(code, []).append(s)

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

    def nearest(self, queries: np.ndarray, n: int, mask: np.ndarray | None = None) -> list[list[tuple[int, float]]]:
        """Exact search: for each query vector, the n chunks (among `mask`) most similar to it as (position,
        cosine similarity), best first, ties by position. Needs `vectors`."""
        assert self.vectors is not None, "exact search needs the vectors in memory"
        queries = _unit(np.atleast_2d(np.asarray(queries, dtype=np.float32)))
        allowed = np.ones(len(self.vectors), dtype=bool) if mask is None else mask
        n = min(n, int(allowed.sum()))
        if n <= 0:
            return [[] for _ in queries]
        out: list[list[tuple[int, float]]] = []
        for start in range(0, len(queries), _BATCH):
            for scores in queries[start : start + _BATCH] @ self.vectors.T:
                scores = np.where(allowed, scores, -np.inf)
                top = np.argpartition(-scores, n - 1)[:n]
                top = top[np.lexsort((top, -scores[top]))]
                out.append([(int(i), float(scores[i])) for i in top])
        return out

    def products(self, day: date) -> list[Product]:
        """The catalogue as indexed, still valid on `day` (closed and suspended ones included)."""
        return [p for p in self.catalogue_products if p.validity(day) == "valid"]


def _unit_rows(stored: Sequence[StoredChunk]) -> np.ndarray | None:
    """The chunks' vectors as unit rows, when every chunk came with one and the index is small enough."""
    if not stored or len(stored) > EXACT_SEARCH_MAX or any(s.vector is None for s in stored):
        return None
    return _unit(np.vstack([s.vector for s in stored if s.vector is not None]).astype(np.float32))


def _unit(rows: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(rows, axis=1, keepdims=True)
    return rows / np.where(norms > 0, norms, 1.0)
