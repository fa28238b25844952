"""The same content gives the same answer gate, and so the same figures, in every process.

Chroma's HNSW search is approximate and not fully deterministic, and Python salts string hashes per
process: either moved the calibrated threshold between two ingestions of the same content, and the
benchmark's figures by a question or two. Small indexes are searched exactly in memory (snapshot.py),
and nothing calibration draws at random depends on set order.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np

from bot.knowledge.service import KnowledgeService
from bot.knowledge.store import ChunkFilter
from tests.knowledge.conftest import REPO, TODAY

_INGEST = """
import json, sys, tempfile
from datetime import date
from pathlib import Path
from bot.knowledge.embeddings import HashingEmbedder
from bot.knowledge.service import KnowledgeService
from bot.knowledge.store import ChromaStore
from bot.settings import KnowledgeSettings
with tempfile.TemporaryDirectory() as tmp:
    settings = KnowledgeSettings(collection="determinism")
    service = KnowledgeService(
        knowledge=settings,
        open_store=lambda: ChromaStore(mode="embedded", collection="determinism", path=Path(tmp)),
        make_embedder=lambda tokenizer: HashingEmbedder(tokenizer, dimensions=512),
        today=lambda: date(2026, 11, 24),
    )
    service.ingest(Path(sys.argv[1]), progress=False)
    gate = service.gate
    print(json.dumps({"threshold": gate.threshold, "weights": gate.weights, "bias": gate.bias}))
"""


def test_the_gate_is_the_same_in_every_process() -> None:
    gates = []
    for seed in ("1", "2"):
        run = subprocess.run(
            [sys.executable, "-c", _INGEST, str(REPO / "knowledge_base")],
            env={**os.environ, "PYTHONHASHSEED": seed},
            capture_output=True,
            text=True,
            cwd=REPO,
            timeout=300,
        )
        assert run.returncode == 0, run.stderr[-2000:]
        gates.append(json.loads(run.stdout.strip().splitlines()[-1]))
    assert gates[0] == gates[1]


def test_small_indexes_are_searched_exactly(service: KnowledgeService) -> None:
    """The in-memory search finds the true nearest chunks among the allowed ones, ties by position."""
    snapshot = service._current()
    assert snapshot.vectors is not None
    _, embedder, _ = service._parts()
    query = np.asarray(embedder.embed_query("理财产品怎么赎回？"), dtype=np.float32)
    mask = snapshot.mask(ChunkFilter(day=TODAY, channel="voice"))
    found = snapshot.nearest(query, 5, mask)[0]
    cosine = snapshot.vectors @ (query / np.linalg.norm(query))
    allowed = [i for i in range(len(snapshot)) if mask[i]]
    expected = sorted(allowed, key=lambda i: (-cosine[i], i))[:5]
    assert [i for i, _ in found] == expected
    assert [s for _, s in found] == [float(cosine[i]) for i in expected]
    assert not mask.all(), "the premise: the filter leaves some chunks out"
