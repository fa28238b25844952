"""KnowledgeService: the one entry point to approved content (ingest, search, answer, catalogue).

Cheap to build; the store, embedder and index open on first use. Retrieval (Chroma, BM25, jieba)
runs in a worker thread so `answer` never blocks the event loop, and LLM failures never escape it:
they fall back to the extractive answer within the same turn.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from bot.core.audit import AuditSink, NullAuditSink
from bot.core.messages import Citation
from bot.errors import KnowledgeUnavailable, LLMUnavailable
from bot.knowledge.calibration import calibrate, fingerprint
from bot.knowledge.chunking import Chunker
from bot.knowledge.compose import Composer
from bot.knowledge.embeddings import Embedder, build_embedder
from bot.knowledge.extractive import decline, notices
from bot.knowledge.gate import GATE_VERSION, GateModel
from bot.knowledge.guard import ComplianceGuard, Guard
from bot.knowledge.ingest import ingest_folder, new_version, save_last_report
from bot.knowledge.lexical import Tokenizer
from bot.knowledge.models import AUDIENCES, Answer, Hit, IngestReport, Product, Retrieval, SearchMode
from bot.knowledge.search import HybridSearcher
from bot.knowledge.snapshot import EXACT_SEARCH_MAX, Snapshot
from bot.knowledge.store import ChromaStore, ChunkFilter
from bot.language import Language, detect_language
from bot.settings import KnowledgeSettings, Settings

if TYPE_CHECKING:  # openai and langchain-core load only when an LLM is configured (~2 s of imports)
    from bot.knowledge.generative import GenerativeAnswerer, PromptSet
    from bot.knowledge.llm import ChatModel, Message
    from bot.knowledge.rewrite import Rewriter

logger = logging.getLogger(__name__)


def audience_of(risk_level: str | None) -> str | None:
    """A client's C1-C5 level selects audience-targeted content; unknown means no audience filter
    (audience targets content, while product suitability is enforced by the compliance guard)."""
    level = (risk_level or "").strip().upper()
    return level if level in AUDIENCES else None


def _exact(store: ChromaStore) -> bool:
    """Whether the index is small enough to be searched exactly, with its vectors in memory."""
    return store.count() <= EXACT_SEARCH_MAX


class KnowledgeService:
    """Approved content: ingest a folder, search it, answer from it with citations."""

    def __init__(
        self,
        *,
        knowledge: KnowledgeSettings,
        open_store: Callable[[], ChromaStore],
        make_embedder: Callable[[Tokenizer], Embedder],
        chat: ChatModel | None = None,
        prompts: PromptSet | None = None,
        guard: Guard | None = None,
        audit: AuditSink | None = None,
        today: Callable[[], date] | None = None,
        report_path: Path | None = None,
    ) -> None:
        self._settings = knowledge
        self._report_path = report_path  # where the last ingestion's report is kept (None: not kept)
        self._open_store = open_store
        self._make_embedder = make_embedder
        self._tokenizer = Tokenizer()
        self._guard: Guard = guard or ComplianceGuard()
        zone = ZoneInfo(knowledge.timezone)
        self._today = today or (lambda: datetime.now(zone).date())
        self._chat = chat
        self._generative: GenerativeAnswerer | None = None
        self._rewriter: Rewriter | None = None
        if chat is not None and prompts is not None:
            from bot.knowledge.generative import GenerativeAnswerer
            from bot.knowledge.rewrite import Rewriter

            self._generative = GenerativeAnswerer(
                chat=chat, prompts=prompts, guard=self._guard, audit=audit or NullAuditSink()
            )
            self._rewriter = Rewriter(chat=chat, prompts=prompts)
        self._composer = Composer(
            tokenizer=self._tokenizer,
            guard=self._guard,
            max_chars=knowledge.max_answer_chars,
            max_voice_chars=knowledge.max_voice_answer_chars,
        )
        self._lock = threading.RLock()
        self._store: ChromaStore | None = None
        self._embedder: Embedder | None = None
        self._searcher: HybridSearcher | None = None
        self._snapshot: Snapshot | None = None
        self._store_version = ""  # the index version our Chroma client has seen
        self._checked_at = 0.0
        self._corpus: tuple[Snapshot, date, str] | None = None

    @classmethod
    def from_settings(cls, settings: Settings, *, audit: AuditSink | None = None) -> KnowledgeService:
        """Validates the LLM settings now; opens nothing. `audit` receives blocked LLM answers: the app
        passes its metered sink (counted in advisor_guard_blocks_total), a command the audit trail; None
        records nothing."""
        kn, emb, llm = settings.knowledge, settings.embeddings, settings.llm
        chat: ChatModel | None = None
        prompts: PromptSet | None = None
        if llm.provider:
            from bot.knowledge.generative import PromptSet
            from bot.knowledge.llm import OpenAIChat

            chat = OpenAIChat(
                model=llm.model,
                base_url=llm.base_url,
                api_key=llm.api_key.get_secret_value() if llm.api_key else None,
                timeout_s=llm.timeout_s,
                temperature=llm.temperature,
                max_tokens=llm.max_tokens,
            )
            prompts = PromptSet(llm.prompts_dir, llm.prompt_version)
        chroma_dir = settings.chroma_dir

        def open_store() -> ChromaStore:
            return ChromaStore(
                mode=kn.chroma_mode,
                collection=kn.collection,
                path=chroma_dir,
                host=kn.chroma_host,
                port=kn.chroma_port,
            )

        return cls(
            knowledge=kn,
            open_store=open_store,
            make_embedder=lambda tokenizer: build_embedder(emb, tokenizer),
            chat=chat,
            prompts=prompts,
            audit=audit,
            report_path=settings.data_dir / "knowledge" / "last_ingest.json",
        )

    # -- lazily opened parts -------------------------------------------------------------------

    def _parts(self) -> tuple[ChromaStore, Embedder, HybridSearcher]:
        with self._lock:
            if self._store is None:
                self._store = self._open_store()
                self._store_version = self._store.version()
            if self._embedder is None:
                self._embedder = self._make_embedder(self._tokenizer)
            if self._searcher is None:
                self._searcher = HybridSearcher(
                    store=self._store,
                    embedder=self._embedder,
                    rrf_k=self._settings.rrf_k,
                    candidates=self._settings.candidates,
                    ranking=self._settings.ranking,
                )
            return self._store, self._embedder, self._searcher

    def _current(self) -> Snapshot:
        """The index snapshot, reloaded when another process re-ingested (checked every refresh_s;
        0 = before every question, so new content is used from the next question on)."""
        store, _, _ = self._parts()
        with self._lock:
            now = time.monotonic()
            if self._snapshot is not None and now - self._checked_at < self._settings.refresh_s:
                return self._snapshot
            version = store.version()
            if version != self._store_version:  # written by another process: our client is stale
                store.reopen()
                self._store_version = version
            if self._snapshot is None or self._snapshot.version != version:
                self._snapshot = self._load(store.read_state())
            self._checked_at = now
            return self._snapshot

    def _load(self, state: dict[str, str]) -> Snapshot:
        """A snapshot of the store with its stored gate, or a gate calibrated now if none fits."""
        store, embedder, _ = self._parts()
        snapshot = Snapshot.build(
            store.load(vectors=_exact(store)), tokenizer=self._tokenizer, version=state.get("version", "")
        )
        gate = GateModel.model_validate_json(state["gate"]) if state.get("gate") else None
        key = fingerprint(snapshot, self._calibration_key(embedder), self._settings.gate_decline_target)
        if gate is None or gate.version != GATE_VERSION or gate.fingerprint != key:
            if snapshot.sources:
                logger.warning("the index has no answer gate for this content; calibrating (run `advisor kb ingest`)")
            gate = self._calibrate(snapshot)
        snapshot.gate = gate
        return snapshot

    def _calibration_key(self, embedder: Embedder) -> str:
        """The gate depends on the vectors and on how candidates are ranked."""
        return f"{embedder.fingerprint}|{self._settings.ranking}|{self._settings.rrf_k}"

    def _calibrate(self, snapshot: Snapshot) -> GateModel | None:
        _, embedder, searcher = self._parts()
        return calibrate(
            snapshot,
            searcher,
            day=self._today(),
            embedder=self._calibration_key(embedder),
            target_decline=self._settings.gate_decline_target,
        )

    # -- sync API (CLI, benchmark, worker threads) ----------------------------------------------

    def ingest(self, path: Path, *, reset: bool = False, progress: bool | None = None) -> IngestReport:
        """Make the index mirror the folder's approved, currently valid content, then calibrate the
        answer gate on it and store both (the new version is what other processes reload)."""
        store, embedder, _ = self._parts()
        chunker = Chunker(chunk_size=self._settings.chunk_size, chunk_overlap=self._settings.chunk_overlap)
        with self._lock:
            report, state = ingest_folder(
                path,
                store=store,
                embedder=embedder,
                tokenizer=self._tokenizer,
                chunker=chunker,
                today=self._today(),
                reset=reset,
                progress=progress,
            )
            version = new_version()
            snapshot = Snapshot.build(store.load(vectors=_exact(store)), tokenizer=self._tokenizer, version=version)
            snapshot.gate = self._calibrate(snapshot)
            if snapshot.gate is not None:
                state["gate"] = snapshot.gate.model_dump_json()
                report.gate = snapshot.gate.describe()
            store.write_state({"version": version, **state})
            self._store_version = version
            self._snapshot, self._checked_at = snapshot, time.monotonic()
        if self._report_path is not None:
            save_last_report(report, self._report_path)
        return report

    def search_sync(
        self,
        query: str,
        *,
        channel: str | None = None,
        audience: str | None = None,
        k: int = 4,
        language: Language | None = None,
        mode: SearchMode = "hybrid",
    ) -> list[Hit]:
        """Ranked sources usable today on `channel` for `audience` (None = no filter), best first;
        `relevance` is the answer gate's probability that the source answers the question."""
        return self._search(self._current(), query, channel, audience, k, language, mode)

    def _search(
        self,
        snapshot: Snapshot,
        query: str,
        channel: str | None,
        audience: str | None,
        k: int,
        language: Language | None,
        mode: SearchMode = "hybrid",
    ) -> list[Hit]:
        _, _, searcher = self._parts()
        flt = ChunkFilter(day=self._today(), channel=channel, audience=audience_of(audience))
        return searcher.search(snapshot, query, flt, k=k, language=language or detect_language(query), mode=mode)

    def products(self) -> list[Product]:
        """The current catalogue (closed and suspended products included, with their status)."""
        return self._current().products(self._today())

    def documents(self, *, doc_type: str, channel: str, language: Language) -> list[Citation]:
        """Indexed documents of one type, valid today on `channel` for every audience, by id: what a
        channel may offer before it knows who is asking (the web chat's suggested questions)."""
        today = self._today()
        found: dict[str, str] = {}
        for chunk in self._current().chunks:
            if (
                chunk.kind == "doc"
                and chunk.doc_type == doc_type
                and chunk.language == language
                and channel in chunk.channels
                and "all" in chunk.audience
                and (chunk.valid_from is None or chunk.valid_from <= today)
                and (chunk.valid_until is None or today <= chunk.valid_until)
            ):
                found.setdefault(chunk.cite_id, chunk.title)
        return [Citation(id=doc_id, title=title) for doc_id, title in sorted(found.items())]

    def is_empty(self) -> bool:
        store, _, _ = self._parts()
        return store.count() == 0

    def ready(self) -> bool:
        """Whether questions can be answered now: the store opens and its approved content is loaded
        (blocking: the first call loads the index, so a readiness probe also warms it)."""
        try:
            return bool(self._current().sources)
        except KnowledgeUnavailable:
            return False

    @property
    def gate(self) -> GateModel | None:
        """The answer gate of the current index (None when the index is empty)."""
        return self._current().gate

    @property
    def relevance_threshold(self) -> float:
        """A hit is evidence when its `relevance` (the gate's probability) reaches this."""
        gate = self.gate
        return gate.threshold if gate is not None else 1.0

    # -- async API (the app) --------------------------------------------------------------------

    async def search(
        self, query: str, *, channel: str | None = None, audience: str | None = None, k: int = 4
    ) -> list[Hit]:
        return await asyncio.to_thread(self.search_sync, query, channel=channel, audience=audience, k=k)

    async def answer(
        self,
        question: str,
        *,
        language: Language,
        channel: str,
        risk_level: str | None = None,
        conversation_id: str | None = None,
        focus: Sequence[str] = (),
    ) -> Answer:
        """A grounded, cited answer, or a decline offering a human advisor; never raises for LLM failures.

        `focus` holds codes of products already in play in the conversation (for "它/this one").
        """
        try:
            retrieval = await asyncio.to_thread(
                self.retrieve, question, language=language, channel=channel, risk_level=risk_level, focus=focus
            )
        except KnowledgeUnavailable:
            logger.exception("knowledge store unavailable; declining")
            return decline(language, unavailable=True)
        if not retrieval.answerable:
            return decline(language)
        return await self.compose(retrieval, channel=channel, risk_level=risk_level, conversation_id=conversation_id)

    def retrieve(
        self,
        question: str,
        *,
        language: Language,
        channel: str,
        risk_level: str | None = None,
        focus: Sequence[str] = (),
    ) -> Retrieval:
        """Ranked evidence for `question` and the answer gate's decision (sync: runs in a worker thread).

        `hits` are the sources the gate accepts, the one to cite first; `products` are the catalogue
        products the question names (else the conversation's `focus`).
        """
        snapshot = self._current()
        ranked = self._search(snapshot, question, channel, risk_level, self._settings.top_k, language)
        catalogue = {p.code: p for p in snapshot.products(self._today())}
        named = [p.code for p in snapshot.catalogue.named(question, fuzzy=True)] or list(focus)
        gate = snapshot.gate
        threshold = gate.threshold if gate is not None else 1.0
        evidence = [h for h in ranked if h.relevance >= threshold]
        confidence = max((h.relevance for h in ranked), default=0.0)
        if not ranked:
            reason = "no usable content"
        elif evidence:
            reason = f"gate: {confidence:.2f} >= {threshold:.2f}"
        else:
            reason = f"gate: {confidence:.2f} < {threshold:.2f}"
        return Retrieval(
            query=question,
            language=language,
            hits=evidence,
            products=[catalogue[c] for c in named if c in catalogue],
            catalogue=catalogue,
            answerable=bool(evidence),
            confidence=confidence,
            reason=reason,
            ranked=ranked,
        )

    async def compose(
        self,
        retrieval: Retrieval,
        *,
        channel: str,
        risk_level: str | None = None,
        conversation_id: str | None = None,
    ) -> Answer:
        """Say what the evidence supports: generative when an LLM is configured (falling back), else extractive."""
        if self._generative is not None:
            try:
                return await self._generative.answer(
                    retrieval, channel=channel, risk_level=risk_level, conversation_id=conversation_id
                )
            except LLMUnavailable as exc:
                logger.warning("generative answer unavailable, answering extractively: %s", exc)
        return await asyncio.to_thread(self._compose_extractive, retrieval, channel)

    def _compose_extractive(self, retrieval: Retrieval, channel: str) -> Answer:
        weight = self._current().index.term_weight  # reads the index version: in the worker thread
        return self._composer.compose(retrieval, channel=channel, weight=weight, notices=self._notices)

    def _notices(self, source_id: str) -> str:
        """The risk-notice lines of a document, wherever its chunks put them."""
        snapshot = self._current()
        return "\n".join(
            line for c in snapshot.chunks if c.source_key == f"doc:{source_id}" for line in notices(c.text)
        )

    def is_approved(self, text: str) -> bool:
        """Whether `text` is quoted verbatim from content approved and valid today: a passage, a
        title or a product field. The outgoing guard asks before it trusts a message's approved spans."""
        needle = text.strip()
        return bool(needle) and needle in self._approved_corpus()

    def _approved_corpus(self) -> str:
        """Every approved text of the current index in one string (built once per index version)."""
        snapshot, today = self._current(), self._today()
        with self._lock:
            cached = self._corpus
            if cached is not None and cached[0] is snapshot and cached[1] == today:
                return cached[2]
            valid = [
                c
                for c in snapshot.chunks
                if (c.valid_from is None or c.valid_from <= today) and (c.valid_until is None or c.valid_until >= today)
            ]
            texts = [t for c in valid for t in (c.title, c.text)]
            for product in snapshot.products(today):
                texts += [product.name, product.description, product.liquidity or "", product.benchmark or ""]
                texts += [*product.fees.keys(), *product.fees.values()]
            corpus = "\x00".join(texts)
            self._corpus = (snapshot, today, corpus)
            return corpus

    async def standalone(self, question: str, history: Sequence[Message], *, language: Language | None = None) -> str:
        """`question` rewritten to stand on its own, using the conversation's last turns (role, text) with
        role "user" or "assistant", oldest first. Without an LLM, without history, or on any failure of
        the model: the question unchanged. Call it before `answer`; never raises for LLM failures."""
        if self._rewriter is None or not history or not question.strip():
            return question
        lang = language or detect_language(question) or self._history_language(history)
        try:
            return await self._rewriter.standalone(question, history, language=lang)
        except LLMUnavailable as exc:
            logger.warning("follow-up rewrite unavailable, retrieving with the question as asked: %s", exc)
            return question

    @staticmethod
    def _history_language(history: Sequence[Message]) -> Language:
        """For a question with no words ("1"), the language of the conversation's last user turn."""
        for role, text in reversed(history):
            found = detect_language(text) if role == "user" else None
            if found is not None:
                return found
        return "zh"

    async def aclose(self) -> None:
        if self._chat is not None:
            await self._chat.aclose()
        store = self._store
        if store is not None:
            await asyncio.to_thread(store.close)
