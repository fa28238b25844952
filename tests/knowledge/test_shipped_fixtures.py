"""The shipped demo corpus plus the draft, expired and future fixtures (kept in tests/, not shipped):
an ingest skips each fixture with its reason and never returns it, whatever is asked."""

from __future__ import annotations

import shutil
from pathlib import Path

from tests.knowledge.conftest import REPO, TODAY, ServiceFactory

FIXTURES = REPO / "tests" / "data" / "kb_fixtures" / "docs"
SHIPPED = REPO / "knowledge_base"


def test_no_test_fixture_is_shipped_as_demo_content() -> None:
    assert not list((SHIPPED / "docs").glob("test-*"))
    assert {p.name for p in FIXTURES.glob("test-*.md")} == {
        "test-draft-bluefinch-en.md", "test-draft-zishan-plan-zh.md", "test-expired-amber-season-zh.md",
        "test-future-ginkgo-route-en.md",
    }  # fmt: skip


def test_drafts_expired_and_future_fixtures_next_to_the_real_corpus_are_never_indexed(
    make_service: ServiceFactory, tmp_path: Path
) -> None:
    corpus = tmp_path / "corpus"
    shutil.copytree(SHIPPED, corpus)
    for fixture in FIXTURES.glob("test-*.md"):
        shutil.copy(fixture, corpus / "docs" / fixture.name)
    service = make_service(today=TODAY)  # 2026-11-24: before the future fixture's valid_from (2027-01-01)
    report = service.ingest(corpus, progress=False)
    outcomes = {item.item: (item.outcome, item.reason) for item in report.items if item.item}
    assert outcomes["test-draft-bluefinch-en"][0] == outcomes["test-draft-zishan-plan-zh"][0] == "skipped"
    assert "draft" in outcomes["test-draft-bluefinch-en"][1]
    assert "expired" in outcomes["test-expired-amber-season-zh"][1]
    assert "not yet valid" in outcomes["test-future-ginkgo-route-en"][1]
    assert service.search_sync("天天宝怎么赎回", k=3)  # the real corpus is indexed and searchable
    for question in ("青鸾方案是什么", "紫杉计划", "琥珀季活动", "Ginkgo Route 2027 programme"):
        found = {hit.id for hit in service.search_sync(question, k=20)}
        assert not {s for s in found if s.startswith("test-")}, question
