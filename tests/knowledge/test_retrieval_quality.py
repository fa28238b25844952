"""The retrieval bars on the shipped corpus: hybrid hit@3 >= 0.90 and out-of-scope declined >= 0.90.

Same evaluation as tests/bench/bench_retrieval.py (which also reports BM25-only, vector-only and
latency); the default offline `hashing` embeddings are used, as shipped.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

from bot.knowledge.service import KnowledgeService
from bot.settings import EmbeddingSettings, load_settings

REPO = Path(__file__).resolve().parents[2]
CORPUS = REPO / "knowledge_base"
QUESTIONS = REPO / "tests" / "data" / "retrieval_questions.yml"


def _bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_retrieval", REPO / "tests" / "bench" / "bench_retrieval.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("bench_retrieval", module)  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


@pytest.mark.skipif(
    not (CORPUS / "products.yml").is_file() or not (CORPUS / "docs").is_dir() or not QUESTIONS.is_file(),
    reason="shipped corpus (knowledge_base/products.yml, docs/) or tests/data/retrieval_questions.yml absent",
)
def test_hybrid_retrieval_meets_the_bars(tmp_path: Path) -> None:
    bench = _bench()
    settings = load_settings(data_dir=tmp_path, embeddings=EmbeddingSettings(provider="hashing"))
    service = KnowledgeService.from_settings(settings)
    service.ingest(CORPUS, progress=False)
    questions = bench.load_questions(QUESTIONS)
    assert sum(q.out_of_scope for q in questions) >= 10 and sum(not q.out_of_scope for q in questions) >= 50
    results = bench.evaluate(service, settings, questions, modes=("hybrid",))
    summary = results["hybrid"].summary()
    misses = "\n".join(str(m) for m in results["hybrid"].misses)
    assert summary["hit@3"] >= 0.90, f"hybrid hit@3 {summary['hit@3']}\n{misses}"
    assert summary["out_of_scope_declined"] >= 0.90, f"declined {summary['out_of_scope_declined']}\n{misses}"
