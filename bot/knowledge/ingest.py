"""Ingestion: a content folder in, the index made to mirror its approved, currently valid content.

Idempotent by content hash: unchanged items are not re-embedded. Items no longer in the folder
(or now expired, or back to draft) are removed. The embedder and chunker fingerprints are part of
the hash, and a different embedder (another vector space) resets the index.
"""

from __future__ import annotations

import hashlib
import json
import os
import uuid
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from tqdm import tqdm

from bot.errors import InputError
from bot.knowledge.chunking import Chunker
from bot.knowledge.content import Parsed, scan
from bot.knowledge.embeddings import Embedder
from bot.knowledge.lexical import Tokenizer
from bot.knowledge.models import Chunk, IngestReport, ItemReport, Product
from bot.knowledge.snapshot import vocabulary
from bot.knowledge.store import ChromaStore

_REASONS = {
    "draft": "draft: no approval, not indexed",
    "expired": "expired (valid_until {until}), not indexed",
    "not_yet_valid": "not yet valid (valid_from {start}), not indexed; ingest again once it is",
}


def _item_report(parsed: Parsed) -> ItemReport:
    return ItemReport(file=parsed.file, item=parsed.item, outcome="invalid", problems=list(parsed.problems))


def ingest_folder(
    folder: Path,
    *,
    store: ChromaStore,
    embedder: Embedder,
    tokenizer: Tokenizer,
    chunker: Chunker,
    today: date,
    reset: bool = False,
    progress: bool | None = None,
) -> tuple[IngestReport, dict[str, str]]:
    """Validate every file, index what is approved and valid today, and report per file and field.

    Returns the report and the state record to write once the caller has calibrated the answer gate
    (written last, so other processes never load an index whose gate is missing).
    """
    if not folder.is_dir():
        raise InputError(f"{folder} is not a folder (expected products.yml and/or docs/*.md inside)")
    parsed_items, notes = scan(folder)
    report = IngestReport(source=str(folder), notes=notes)
    # BM25 tokens use the catalogue's names as jieba words; a new catalogue changes the fingerprint.
    products = [
        p.content for p in parsed_items if isinstance(p.content, Product) and p.content.validity(today) == "valid"
    ]
    tokenizer = tokenizer.with_vocabulary(vocabulary(products))
    fingerprint = f"{embedder.fingerprint}|{chunker.fingerprint}|{tokenizer.fingerprint}"
    previous = store.read_state().get("fingerprint")
    if not reset and previous and previous != fingerprint and store.count():
        report.notes.append(f"note: embeddings/chunking changed ({previous} → {fingerprint}); rebuilding the index")
        reset = True
    before = store.source_hashes()
    if reset:
        store.reset()
        report.reset = True

    indexed = {} if reset else before
    keep: set[str] = set()
    pending: list[tuple[ItemReport, list[Chunk]]] = []
    for parsed in parsed_items:
        item = _item_report(parsed)
        report.items.append(item)
        content = parsed.content
        if content is None or parsed.key is None:
            item.reason = "not indexed: fix the fields below"
            continue
        validity = content.validity(today)
        if validity != "valid":
            item.outcome = "skipped"
            item.reason = _REASONS[validity].format(until=content.valid_until, start=content.valid_from)
            continue
        source_hash = hashlib.sha256(f"{parsed.content_hash}|{fingerprint}".encode()).hexdigest()
        keep.add(parsed.key)
        if indexed.get(parsed.key) == source_hash:
            item.outcome, item.reason = "unchanged", "already indexed"
            continue
        chunks = (
            chunker.product(content, source_hash=source_hash)
            if isinstance(content, Product)
            else chunker.document(content, source_hash=source_hash)
        )
        item.outcome, item.chunks = "indexed", len(chunks)
        pending.append((item, chunks))

    _write(store, embedder, tokenizer, pending, progress)
    report.removed = sorted(set(before) - keep)
    store.delete_sources(set(indexed) - keep)
    return report, {
        "fingerprint": fingerprint,
        "source": str(folder),
        "ingested_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def new_version() -> str:
    """A fresh index version: other processes reload their snapshot when it changes."""
    return uuid.uuid4().hex


def _write(
    store: ChromaStore,
    embedder: Embedder,
    tokenizer: Tokenizer,
    pending: list[tuple[ItemReport, list[Chunk]]],
    progress: bool | None,
) -> None:
    """Replace each changed item's chunks: old chunks go first so a shorter version leaves no tail."""
    if not pending:
        return
    store.delete_sources({chunks[0].source_key for _, chunks in pending if chunks})
    total = sum(len(chunks) for _, chunks in pending)
    # tqdm writes to stderr, so `--json` output on stdout stays clean; None = only on a terminal.
    with tqdm(total=total, desc="Indexing", unit="chunk", disable=None if progress is None else not progress) as bar:
        batch: list[Chunk] = []
        for _, chunks in pending:
            batch.extend(chunks)
            if len(batch) >= 256:
                _flush(store, embedder, tokenizer, batch)
                bar.update(len(batch))
                batch = []
        if batch:
            _flush(store, embedder, tokenizer, batch)
            bar.update(len(batch))


def _flush(store: ChromaStore, embedder: Embedder, tokenizer: Tokenizer, chunks: list[Chunk]) -> None:
    """BM25 tokens from the catalogue-aware tokenizer; vectors from the embedder (its own tokenizer)."""
    texts = [index_text(c) for c in chunks]
    store.add(chunks, [tokenizer.tokens(t) for t in texts], embedder.embed_documents(texts))


def index_text(chunk: Chunk) -> str:
    """What BM25 and the embedder see: the passage with its title, section and tags, so a passage
    that never repeats its document's subject is still found by it."""
    return "\n".join(part for part in (chunk.title, chunk.section, chunk.text, " ".join(chunk.tags)) if part)


def save_last_report(report: IngestReport, path: Path) -> None:
    """Keep the latest ingestion's report (the console shows what was refused and why); atomic replace."""
    path.parent.mkdir(parents=True, exist_ok=True)
    data = {"ingested_at": datetime.now(UTC).isoformat(timespec="seconds"), "report": report.model_dump(mode="json")}
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")
    tmp.replace(path)


def load_last_report(path: Path) -> tuple[datetime, IngestReport] | None:
    """When the last ingestion ran and its report; None if there was none (or the file is unreadable)."""
    try:
        data: Any = json.loads(path.read_text(encoding="utf-8"))
        return datetime.fromisoformat(data["ingested_at"]), IngestReport.model_validate(data["report"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
