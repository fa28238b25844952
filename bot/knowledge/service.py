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

from bot.dialogue.models import Citation
from bot.errors import KnowledgeUnavailable, LLMUnavailable
from bot.knowledge.audit import AuditSink, JsonlAuditSink, NullAuditSink
from bot.knowledge.chunking import Chunker
from bot.knowledge.embeddings import Embedder, build_embedder
from bot.knowledge.extractive import ExtractiveAnswerer, decline
from bot.knowledge.guard import ComplianceGuard, Guard
from bot.knowledge.ingest import ingest_folder, save_last_report
from bot.knowledge.lexical import Tokenizer
from bot.knowledge.models import AUDIENCES, Answer, Hit, IngestReport, Product, Retrieval, SearchMode
from bot.knowledge.search import HybridSearcher, Snapshot
from bot.knowledge.store import ChromaStore, ChunkFilter
from bot.language import Language, detect_language
from bot.settings import KnowledgeSettings, Settings

if TYPE_CHECKING:  # openai and langchain-core load only when an LLM is configured (~2 s of imports)
    from bot.knowledge.generative import GenerativeAnswerer, PromptSet
    from bot.knowledge.llm import ChatModel

logger = logging.getLogger(__name__)


def audience_of(risk_level: str | None) -> str | None:
    """A client's C1-C5 level selects audience-targeted content; unknown means no audience filter
    (audience targets content, while product suitability is enforced by the compliance guard)."""
    level = (risk_level or "").strip().upper()
    return level if level in AUDIENCES else None


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
        if chat is not None and prompts is not None:
            from bot.knowledge.generative import GenerativeAnswerer

            self._generative = GenerativeAnswerer(
                chat=chat, prompts=prompts, guard=self._guard, audit=audit or NullAuditSink()
            )
        self._extractive = ExtractiveAnswerer(
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
        self._checked_at = 0.0

    @classmethod
    def from_settings(cls, settings: Settings) -> KnowledgeService:
        """Validates the LLM settings now; opens nothing."""
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
        audit: AuditSink = (
            JsonlAuditSink(settings.data_dir / "audit" / "compliance.jsonl")
            if settings.compliance.audit
            else NullAuditSink()
        )
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
            if self._embedder is None:
                self._embedder = self._make_embedder(self._tokenizer)
            if self._searcher is None:
                self._searcher = HybridSearcher(
                    store=self._store,
                    embedder=self._embedder,
                    tokenizer=self._tokenizer,
                    rrf_k=self._settings.rrf_k,
                    candidates=self._settings.candidates,
                )
            return self._store, self._embedder, self._searcher

    def _current(self) -> Snapshot:
        """The index snapshot, reloaded when another process re-ingested (checked every refresh_s)."""
        store, _, _ = self._parts()
        with self._lock:
            now = time.monotonic()
            if self._snapshot is not None and now - self._checked_at < self._settings.refresh_s:
                return self._snapshot
            version = store.read_state().get("version", "")
            if self._snapshot is None or self._snapshot.version != version:
                self._snapshot = Snapshot.build(store.load(), version=version)
            self._checked_at = now
            return self._snapshot

    # -- sync API (CLI, benchmark, worker threads) ----------------------------------------------

    def ingest(self, path: Path, *, reset: bool = False, progress: bool | None = None) -> IngestReport:
        """Make the index mirror the folder's approved, currently valid content."""
        store, embedder, _ = self._parts()
        chunker = Chunker(chunk_size=self._settings.chunk_size, chunk_overlap=self._settings.chunk_overlap)
        with self._lock:
            report = ingest_folder(
                path,
                store=store,
                embedder=embedder,
                tokenizer=self._tokenizer,
                chunker=chunker,
                today=self._today(),
                reset=reset,
                progress=progress,
            )
            self._snapshot = None
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
        """Ranked chunks usable today on `channel` for `audience` (None = no filter)."""
        _, _, searcher = self._parts()
        snapshot = self._current()
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

    @property
    def relevance_threshold(self) -> float:
        return self._settings.relevance_threshold

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
        """Ranked evidence for `question` and the answer gate's decision (sync: runs in a worker thread)."""
        hits = self.search_sync(
            question, channel=channel, audience=risk_level, k=self._settings.top_k, language=language
        )
        catalogue = {p.code: p for p in self.products()}
        relevant = [h for h in hits if h.relevance >= self._settings.relevance_threshold]
        return Retrieval(
            query=question,
            language=language,
            hits=relevant,
            products=[catalogue[c] for c in focus if c in catalogue],
            catalogue=catalogue,
            answerable=bool(relevant),
            confidence=max((h.relevance for h in hits), default=0.0),
            reason="relevance threshold",
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
                    retrieval.query,
                    language=retrieval.language,
                    channel=channel,
                    hits=retrieval.evidence,
                    catalogue=retrieval.catalogue,
                    risk_level=risk_level,
                    conversation_id=conversation_id,
                )
            except LLMUnavailable as exc:
                logger.warning("generative answer unavailable, answering extractively: %s", exc)
        weight = self._current().index.term_weight
        return await asyncio.to_thread(
            self._extractive.answer,
            retrieval.query,
            language=retrieval.language,
            channel=channel,
            hits=retrieval.evidence,
            catalogue=retrieval.catalogue,
            weight=weight,
        )

    async def aclose(self) -> None:
        if self._chat is not None:
            await self._chat.aclose()
        store = self._store
        if store is not None:
            await asyncio.to_thread(store.close)
