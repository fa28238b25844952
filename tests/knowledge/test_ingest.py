"""Ingestion: per-file reports, what is never indexed, idempotence, removals, resets."""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from pathlib import Path

import pytest

from bot.errors import InputError
from bot.knowledge.embeddings import HashingEmbedder
from bot.knowledge.lexical import Tokenizer
from tests.knowledge.conftest import ServiceFactory


class CountingEmbedder(HashingEmbedder):
    """The real hashing embedder, counting how many texts it embedded at ingestion."""

    def __init__(self, tokenizer: Tokenizer, dimensions: int = 256) -> None:
        super().__init__(tokenizer, dimensions=dimensions)
        self.embedded = 0

    def embed_documents(self, texts: Sequence[str]) -> list[list[float]]:
        self.embedded += len(texts)
        return super().embed_documents(texts)


def _outcomes(report: object) -> dict[str, str]:
    return {(i.item or i.file): i.outcome for i in report.items}  # type: ignore[attr-defined]


def test_report_per_file_and_field(make_service: ServiceFactory, corpus: Path) -> None:
    report = make_service().ingest(corpus, progress=False)
    outcomes = _outcomes(report)
    assert outcomes["faq-redeem-zh"] == outcomes["WM100"] == outcomes["WM200"] == "indexed"
    assert outcomes["faq-draft-zh"] == "skipped"
    assert outcomes["faq-expired-zh"] == outcomes["WM300"] == "skipped"
    assert outcomes["faq-future-zh"] == "skipped"
    assert outcomes["BAD1"] == outcomes["broken"] == outcomes["docs/no-front-matter.md"] == "invalid"
    assert not report.ok
    details = report.details()
    assert "draft: no approval" in details and "expired (valid_until" in details and "not yet valid" in details
    assert "docs/broken.md [broken]" in details and "type:" in details and "language:" in details
    assert report.summary().startswith(f"{report.count('indexed')} indexed (")


def test_reingest_is_idempotent_by_content_hash(make_service: ServiceFactory, corpus: Path) -> None:
    counter: list[CountingEmbedder] = []

    def embedder(tokenizer: Tokenizer) -> CountingEmbedder:
        counter.append(CountingEmbedder(tokenizer))
        return counter[-1]

    service = make_service(embedder=embedder)
    first = service.ingest(corpus, progress=False)
    embedded = counter[0].embedded
    chunks = service._parts()[0].count()
    second = service.ingest(corpus, progress=False)
    assert counter[0].embedded == embedded  # nothing re-embedded
    assert second.count("indexed") == 0 and second.count("unchanged") == first.count("indexed")
    assert service._parts()[0].count() == chunks


def test_changed_and_removed_documents(make_service: ServiceFactory, corpus: Path) -> None:
    service = make_service()
    service.ingest(corpus, progress=False)
    path = corpus / "docs" / "faq-benchmark-zh.md"
    path.write_text(path.read_text(encoding="utf-8").replace("参照标准", "参照基准线"), encoding="utf-8")
    (corpus / "docs" / "faq-redeem-en.md").unlink()
    report = service.ingest(corpus, progress=False)
    assert _outcomes(report)["faq-benchmark-zh"] == "indexed"
    assert report.removed == ["doc:faq-redeem-en"]
    ids = {h.id for h in service.search_sync("How do I redeem a wealth product?", k=10)}
    assert "faq-redeem-en" not in ids
    assert "参照基准线" in service.search_sync("业绩比较基准是什么", k=1)[0].text


def test_the_index_mirrors_the_folder(make_service: ServiceFactory, corpus: Path, tmp_path: Path) -> None:
    service = make_service()
    service.ingest(corpus, progress=False)
    only_docs = tmp_path / "only-docs"
    shutil.copytree(corpus / "docs", only_docs / "docs")
    report = service.ingest(only_docs, progress=False)
    assert {"product:WM100", "product:WM200"} <= set(report.removed)
    assert service.products() == []


def test_reset_empties_the_index_first(make_service: ServiceFactory, corpus: Path) -> None:
    service = make_service()
    assert service.is_empty()
    service.ingest(corpus, progress=False)
    assert not service.is_empty()
    report = service.ingest(corpus, reset=True, progress=False)
    assert report.reset and report.count("unchanged") == 0 and report.count("indexed") > 0


def test_another_embedder_rebuilds_the_index(make_service: ServiceFactory, corpus: Path, tmp_path: Path) -> None:
    store_dir = tmp_path / "shared-chroma"
    make_service(store_dir=store_dir).ingest(corpus, progress=False)
    other = make_service(store_dir=store_dir, embedder=lambda t: HashingEmbedder(t, dimensions=128))
    report = other.ingest(corpus, progress=False)
    assert report.reset and any("rebuilding the index" in n for n in report.notes)
    assert other.search_sync("理财产品怎么赎回", k=2)[0].id in {"faq-redeem-zh", "faq-redeem-en"}


def test_missing_folder_is_refused(make_service: ServiceFactory, tmp_path: Path) -> None:
    with pytest.raises(InputError, match="not a folder"):
        make_service().ingest(tmp_path / "nope", progress=False)


def test_empty_folder_is_reported(make_service: ServiceFactory, tmp_path: Path) -> None:
    report = make_service().ingest(tmp_path, progress=False)
    assert report.items == [] and "neither products.yml nor docs" in report.notes[0]
