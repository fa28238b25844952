"""The retrieval benchmark's evaluation sets, its baseline, and one set's run (see bench_retrieval.py).

- demo: knowledge_base/ and tests/data/retrieval_questions.yml (DEV: tune on it).
- bank3: tests/data/dev_bank3/ and its questions.yml, a third fictional bank (DEV: a second corpus, so a
  change tuned on the demo is seen to carry over to another bank's content).
- bank4: tests/data/dev_bank4/ and its questions.yml, a fourth, fund- and insurance-heavy bank (DEV: written
  before anything was measured on it, with near-domain out-of-scope questions).
- bank2: tests/data/heldout/bank2/ and bank2_questions.yml (held out: report only).
- faq-dev / faq-holdout: the FAQs of tests/data/heldout/faq_paraphrase.yml ingested as documents, its
  `asked` questions asked (dev may guide; holdout is report only).
The baseline is a plain character-bigram BM25 over the same titles (documents' titles, products' names).
"""

from __future__ import annotations

import asyncio
import re
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from rank_bm25 import BM25Okapi

from bot.knowledge.content import scan
from bot.knowledge.evaluation import BatchQuestion, evaluate
from bot.knowledge.models import Document, Product
from bot.knowledge.service import KnowledgeService
from bot.settings import load_settings

REPO = Path(__file__).resolve().parents[2]
DATA = REPO / "tests" / "data"


@dataclass
class Question:
    q: str
    lang: str
    expected: list[str]

    @property
    def out_of_scope(self) -> bool:
        return not self.expected


@dataclass
class EvalSet:
    name: str
    corpus: Path
    questions: list[Question]


def load_questions(path: Path) -> list[Question]:
    """A YAML list of {q, lang, expected, out_of_scope?} (the demo and the second bank's format)."""
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or []
    return [
        Question(q=i["q"], lang=i.get("lang", "zh"), expected=[] if i.get("out_of_scope") else list(i["expected"]))
        for i in data
    ]


def write_faq_corpus(path: Path, folder: Path) -> dict[str, list[Question]]:
    """The paraphrase set's FAQs as approved documents in `folder`; its questions by split."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    (folder / "docs").mkdir(parents=True, exist_ok=True)
    for faq in data["faqs"]:
        language = "en" if faq["title"].isascii() else "zh"
        front = {
            "id": faq["id"],
            "title": faq["title"],
            "type": "faq",
            "language": language,
            "approval": {"id": f"BENCH-{faq['id']}", "approver": "bench", "approved_at": "2026-01-01"},
            "valid_from": "2026-01-01",
            "valid_until": "2099-12-31",
        }
        text = "---\n" + yaml.safe_dump(front, allow_unicode=True) + "---\n" + faq["answer"] + "\n"
        (folder / "docs" / f"{faq['id']}.md").write_text(text, encoding="utf-8")
    splits: dict[str, list[Question]] = {}
    for asked in data["asked"]:
        lang = "en" if asked["q"].isascii() else "zh"
        expected = [asked["faq"]] if asked.get("faq") else []
        splits.setdefault(asked["split"], []).append(Question(q=asked["q"], lang=lang, expected=expected))
    return splits


def sets(workdir: Path, *, heldout: bool = True) -> list[EvalSet]:
    out = [
        EvalSet("demo", REPO / "knowledge_base", load_questions(DATA / "retrieval_questions.yml")),
        EvalSet("bank3", DATA / "dev_bank3", load_questions(DATA / "dev_bank3" / "questions.yml")),
        EvalSet("bank4", DATA / "dev_bank4", load_questions(DATA / "dev_bank4" / "questions.yml")),
    ]
    bank2 = DATA / "heldout" / "bank2_questions.yml"
    if heldout and bank2.is_file():
        out.append(EvalSet("bank2", DATA / "heldout" / "bank2", load_questions(bank2)))
    paraphrase = DATA / "heldout" / "faq_paraphrase.yml"
    if paraphrase.is_file():
        splits = write_faq_corpus(paraphrase, workdir / "faq-corpus")
        out.append(EvalSet("faq-dev", workdir / "faq-corpus", splits.get("dev", [])))
        if heldout:
            out.append(EvalSet("faq-holdout", workdir / "faq-corpus", splits.get("holdout", [])))
    return out


# -- the baseline ---------------------------------------------------------------------------------


def _bigrams(text: str) -> list[str]:
    text = re.sub(r"\s+", "", text.lower())
    return [text[i : i + 2] for i in range(len(text) - 1)] or [text]


class TitleBigramBM25:
    """The plain baseline: character-bigram BM25 over titles (documents' titles, products' names)."""

    def __init__(self, corpus: Path, today: Any) -> None:
        items, _ = scan(corpus)
        titles: list[tuple[str, str]] = []
        for parsed in items:
            content = parsed.content
            if isinstance(content, Product) and content.validity(today) == "valid":
                titles.append((content.code, content.name))
            elif isinstance(content, Document) and content.validity(today) == "valid":
                titles.append((content.id, content.title))
        self._ids = [i for i, _ in titles]
        self._bm25 = BM25Okapi([_bigrams(t) for _, t in titles])

    def ranked(self, question: str, k: int = 3) -> list[str]:
        scores = self._bm25.get_scores(_bigrams(question))
        order = sorted(range(len(scores)), key=lambda i: -scores[i])
        return [self._ids[i] for i in order[:k]]


# -- one set --------------------------------------------------------------------------------------


def _rank(ranked: list[str], expected: list[str]) -> int | None:
    return next((i for i, cid in enumerate(ranked, start=1) if cid in expected), None)


def _share(values: list[bool]) -> float:
    return round(sum(values) / len(values), 3) if values else 0.0


def percentile(values: list[float], pct: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(pct / 100 * (len(ordered) - 1))))]


def run_set(item: EvalSet) -> dict[str, Any]:
    """Ingest the set's corpus into a fresh store, then every figure the benchmark prints for it."""
    with tempfile.TemporaryDirectory(prefix="bench-kb-") as tmp:
        settings = load_settings(data_dir=Path(tmp))
        service = KnowledgeService.from_settings(settings)
        started = time.perf_counter()
        report = service.ingest(item.corpus, progress=False)
        ingest_s = time.perf_counter() - started
        hidden = {i.item for i in report.items if i.outcome == "skipped" and i.item}  # drafts, expired, future
        questions = [
            (n, BatchQuestion(q=q.q, language=q.lang, expect=q.expected)) for n, q in enumerate(item.questions)
        ]
        evaluation = asyncio.run(evaluate(service, questions, settings.default_language))
        baseline = TitleBigramBM25(item.corpus, service._today())
        in_scope = [q for q in item.questions if not q.out_of_scope]
        # The fused ranking whatever the default (`knowledge.ranking`): a second service on the same index.
        hybrid = KnowledgeService.from_settings(
            settings.model_copy(update={"knowledge": settings.knowledge.model_copy(update={"ranking": "hybrid"})})
        )
        modes: dict[str, dict[str, float]] = {}
        for mode, searcher in (("hybrid", hybrid), ("bm25", service), ("vector", service)):
            found = [searcher.search_sync(q.q, k=4, language=q.lang, mode=mode) for q in in_scope]  # type: ignore[arg-type]
            ranks = [_rank([h.id for h in hits], q.expected) for hits, q in zip(found, in_scope, strict=True)]
            modes[mode] = {
                "hit@1": _share([r == 1 for r in ranks]),
                "hit@3": _share([r is not None and r <= 3 for r in ranks]),
            }
        base_ranks = [_rank(baseline.ranked(q.q), q.expected) for q in in_scope]
        latencies = []
        for q in item.questions:
            start = time.perf_counter()
            service.retrieve(q.q, language=q.lang, channel="web")  # type: ignore[arg-type]
            latencies.append((time.perf_counter() - start) * 1000)
        gate = service.gate
    summary = evaluation.summary()
    return {
        "corpus": report.summary(),
        "ingest_s": round(ingest_s, 1),
        "questions": summary["questions"],
        "out_of_scope": summary["out_of_scope"],
        "answered_correct": summary["answered_correct"],
        "gate_correct": summary["gate_correct"],
        "answered": summary["answered"],
        "declined": summary["declined"],
        "out_of_scope_declined": summary["out_of_scope_declined"],
        "hidden_cited": sum(1 for o in evaluation.outcomes if set(o.citations) & hidden),
        "default_hit@1": summary["hit@1"],
        "default_hit@3": summary["hit@3"],
        "hybrid_hit@1": modes["hybrid"]["hit@1"],
        "hybrid_hit@3": modes["hybrid"]["hit@3"],
        "bm25_hit@1": modes["bm25"]["hit@1"],
        "bm25_hit@3": modes["bm25"]["hit@3"],
        "vector_hit@1": modes["vector"]["hit@1"],
        "vector_hit@3": modes["vector"]["hit@3"],
        "baseline_hit@1": _share([r == 1 for r in base_ranks]),
        "baseline_hit@3": _share([r is not None and r <= 3 for r in base_ranks]),
        "p50_ms": round(percentile(latencies, 50), 2),
        "p95_ms": round(percentile(latencies, 95), 2),
        "threshold": round(gate.threshold, 3) if gate else None,
        "misses": evaluation.misses(),
    }
