"""Regression guards on the demo (dev) set, as shipped (offline `hashing` embeddings, calibrated gate).

Same run as tests/bench/bench_retrieval.py, which also reports the held-out sets and latency.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.bench.retrieval_sets import DATA, REPO, EvalSet, load_questions, run_set

CORPUS = REPO / "knowledge_base"
QUESTIONS = DATA / "retrieval_questions.yml"


@pytest.mark.skipif(
    not (CORPUS / "products.yml").is_file() or not QUESTIONS.is_file(),
    reason="shipped corpus (knowledge_base/) or tests/data/retrieval_questions.yml absent",
)
def test_demo_retrieval_and_gate(tmp_path: Path) -> None:
    questions = load_questions(QUESTIONS)
    assert sum(q.out_of_scope for q in questions) >= 10 and sum(not q.out_of_scope for q in questions) >= 50
    row = run_set(EvalSet("demo", CORPUS, questions))
    misses = "\n".join(str(m) for m in row["misses"])
    assert row["hybrid_hit@1"] >= row["bm25_hit@1"], row  # fusion helps on the dev set
    assert row["default_hit@3"] >= 0.85, misses
    assert row["answered"] >= 0.80 and row["out_of_scope_declined"] >= 0.85, misses
    assert row["hidden_cited"] == 0
