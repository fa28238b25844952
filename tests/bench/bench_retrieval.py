"""Retrieval benchmark: quality on the shipped corpus, and latency at 10,000 chunks.

    python tests/bench/bench_retrieval.py [--json] [--skip-scale] [--scale-chunks 10000]

Quality: each question of tests/data/retrieval_questions.yml is searched in three modes (hybrid,
BM25 only, vector only); hit@1, hit@3 and MRR@10 count distinct sources (doc ids / product codes).
Out-of-scope questions must be declined (best relevance below the threshold); in-scope questions
should be answered. Scale: a synthetic corpus is generated into a temporary data directory,
ingested, and p50/p95 retrieval latency measured. Exit status 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from bot.knowledge.models import Hit, SearchMode  # noqa: E402
from bot.knowledge.service import KnowledgeService  # noqa: E402
from bot.settings import Settings, load_settings  # noqa: E402

CORPUS = REPO / "knowledge_base"
QUESTIONS = REPO / "tests" / "data" / "retrieval_questions.yml"
MODES: tuple[SearchMode, ...] = ("hybrid", "bm25", "vector")
TARGETS = {"hybrid_hit@3": 0.90, "out_of_scope_declined": 0.90, "scale_p95_ms": 30.0}


@dataclass
class Question:
    q: str
    lang: str
    expected: list[str]
    out_of_scope: bool = False


@dataclass
class ModeResult:
    ranks: list[int | None] = field(default_factory=list)  # 1-based rank of the first expected source
    answered: list[bool] = field(default_factory=list)  # in scope: best relevance above the threshold
    declined: list[bool] = field(default_factory=list)  # out of scope: best relevance below it
    latencies_ms: list[float] = field(default_factory=list)
    misses: list[dict[str, Any]] = field(default_factory=list)

    def summary(self) -> dict[str, float]:
        n = len(self.ranks) or 1
        return {
            "hit@1": round(sum(1 for r in self.ranks if r == 1) / n, 3),
            "hit@3": round(sum(1 for r in self.ranks if r is not None and r <= 3) / n, 3),
            "mrr": round(sum(1 / r for r in self.ranks if r) / n, 3),
            "answered": round(sum(self.answered) / (len(self.answered) or 1), 3),
            "out_of_scope_declined": round(sum(self.declined) / (len(self.declined) or 1), 3),
            "p50_ms": round(percentile(self.latencies_ms, 50), 2),
            "p95_ms": round(percentile(self.latencies_ms, 95), 2),
        }


def percentile(values: list[float], pct: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(pct / 100 * (len(ordered) - 1))))
    return ordered[index]


def load_questions(path: Path) -> list[Question]:
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or []
    return [
        Question(
            q=i["q"],
            lang=i.get("lang", "zh"),
            expected=list(i.get("expected") or []),
            out_of_scope=bool(i.get("out_of_scope")),
        )
        for i in data
    ]


def sources(hits: list[Hit]) -> list[str]:
    """Distinct citation ids in rank order (several chunks of one document count once)."""
    out: list[str] = []
    for hit in hits:
        if hit.id not in out:
            out.append(hit.id)
    return out


def service_for(data_dir: Path) -> tuple[KnowledgeService, Settings]:
    settings = load_settings(data_dir=data_dir)
    return KnowledgeService.from_settings(settings), settings


def evaluate(
    service: KnowledgeService,
    settings: Settings,
    questions: list[Question],
    modes: tuple[SearchMode, ...] = MODES,
) -> dict[str, ModeResult]:
    """Search every question in every mode (no channel/audience filter: retrieval quality only)."""
    threshold = settings.knowledge.relevance_threshold
    top_k = settings.knowledge.top_k
    results = {mode: ModeResult() for mode in modes}
    service.search_sync("预热 warm-up", k=10)
    for mode in modes:
        result = results[mode]
        for item in questions:
            start = time.perf_counter()
            hits = service.search_sync(item.q, k=10, language=item.lang, mode=mode)  # type: ignore[arg-type]
            result.latencies_ms.append((time.perf_counter() - start) * 1000)
            best = max((h.relevance for h in hits[:top_k]), default=0.0)
            if item.out_of_scope:
                result.declined.append(best < threshold)
                if best >= threshold:
                    result.misses.append(
                        {"q": item.q, "problem": "not declined", "relevance": best, "top": sources(hits)[:3]}
                    )
                continue
            ranked = sources(hits)
            rank = next((i for i, cid in enumerate(ranked, start=1) if cid in item.expected), None)
            result.ranks.append(rank)
            result.answered.append(best >= threshold)
            if rank is None or rank > 3 or best < threshold:
                result.misses.append(
                    {
                        "q": item.q,
                        "problem": "declined" if best < threshold else "miss",
                        "rank": rank,
                        "relevance": best,
                        "top": ranked[:3],
                        "expected": item.expected[:3],
                    }
                )
    return results


# -- scale run ------------------------------------------------------------------------------------

_SUBJECTS = ["现金管理", "固收", "纯债", "短债", "指数", "混合", "货币", "大额存单", "国债", "养老", "外币", "结构性"]
_TOPICS = [
    "赎回到账",
    "申购费率",
    "管理费",
    "托管费",
    "风险等级",
    "持有期",
    "业绩比较基准",
    "净值波动",
    "起购金额",
    "节假日",
    "快速赎回",
    "转让",
    "分红方式",
    "定投",
    "风险测评",
    "适当性",
    "双录",
    "税费",
]
_SENTENCES = [
    "{s}产品的{t}规则以产品说明书为准，交易日15:00前提交按当日处理。",
    "关于{t}，客户可以在手机银行“我的理财”页面查看明细，也可以到网点咨询理财经理。",
    "{s}类产品净值会随市场波动，过往表现不代表未来，{t}相关安排可能调整。",
    "如果您对{t}有疑问，可以联系客服热线，或在企业微信联系您的专属顾问。",
    "{s}产品按年费率每日计提费用，{t}已反映在净值中，不会另外扣款。",
    "The {t_en} of the {s_en} product follows its prospectus; orders before 15:00 count for the day.",
]
_EN = {
    "现金管理": "cash management",
    "固收": "fixed income",
    "纯债": "pure bond",
    "短债": "short bond",
    "指数": "index",
    "混合": "hybrid",
    "货币": "money market",
    "大额存单": "large CD",
    "国债": "treasury",
    "养老": "pension",
    "外币": "foreign currency",
    "结构性": "structured",
}


def write_synthetic_corpus(folder: Path, chunks: int, seed: int = 7) -> int:
    """About `chunks` chunks: documents of four sections, each section one chunk."""
    rng = random.Random(seed)
    docs = folder / "docs"
    docs.mkdir(parents=True)
    per_doc = 4
    for n in range(chunks // per_doc):
        subject = rng.choice(_SUBJECTS)
        sections = []
        for s in range(per_doc):
            topic = rng.choice(_TOPICS)
            body = "".join(
                rng.choice(_SENTENCES).format(s=subject, t=topic, s_en=_EN[subject], t_en="rules")
                for _ in range(rng.randint(3, 5))
            )
            sections.append(f"## {subject}{topic}说明{s + 1}\n\n{body}\n")
        channels = rng.choice(["[web, wecom, voice]", "[web, wecom]", "[voice]"])
        (docs / f"synthetic-{n:05d}.md").write_text(
            f"---\nid: synthetic-{n:05d}\ntitle: {subject}产品常见问题{n}\ntype: faq\nlanguage: zh\n"
            f"approval: {{id: SYN-{n}, approver: 合规部, approved_at: 2026-01-01}}\n"
            f"valid_from: 2026-01-01\nvalid_until: 2099-12-31\nchannels: {channels}\naudience: [all]\n"
            f"products: []\ntags: [{subject}]\n---\n" + "\n".join(sections),
            encoding="utf-8",
        )
    return (chunks // per_doc) * per_doc


def scale_run(chunks: int, queries: int = 200) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="bench-kb-") as tmp:
        folder = Path(tmp) / "corpus"
        write_synthetic_corpus(folder, chunks)
        service, _ = service_for(Path(tmp) / "data")
        start = time.perf_counter()
        report = service.ingest(folder, progress=True)
        ingest_s = time.perf_counter() - start
        rng = random.Random(11)
        questions = [f"{rng.choice(_SUBJECTS)}产品的{rng.choice(_TOPICS)}怎么算？" for _ in range(queries)]
        service.search_sync("预热", channel="web")
        latencies = []
        for question in questions:
            start = time.perf_counter()
            service.search_sync(question, channel="web", k=4)
            latencies.append((time.perf_counter() - start) * 1000)
        return {
            "chunks": report.chunks,
            "ingest_s": round(ingest_s, 1),
            "queries": queries,
            "p50_ms": round(percentile(latencies, 50), 2),
            "p95_ms": round(percentile(latencies, 95), 2),
        }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    parser.add_argument("--questions", type=Path, default=QUESTIONS)
    parser.add_argument("--skip-scale", action="store_true", help="quality only")
    parser.add_argument("--scale-chunks", type=int, default=10_000)
    parser.add_argument("--misses", action="store_true", help="list misses of the hybrid mode")
    args = parser.parse_args()

    questions = load_questions(args.questions)
    with tempfile.TemporaryDirectory(prefix="bench-kb-") as tmp:
        service, settings = service_for(Path(tmp))
        report = service.ingest(args.corpus, progress=False)
        results = evaluate(service, settings, questions)
    out: dict[str, Any] = {
        "corpus": {"chunks": report.chunks, "summary": report.summary()},
        "questions": {
            "in_scope": sum(not q.out_of_scope for q in questions),
            "out_of_scope": sum(q.out_of_scope for q in questions),
        },
        "threshold": settings.knowledge.relevance_threshold,
        "embeddings": settings.embeddings.provider,
        "modes": {mode: results[mode].summary() for mode in MODES},
    }
    if args.misses:
        out["misses"] = results["hybrid"].misses
    if not args.skip_scale:
        out["scale"] = scale_run(args.scale_chunks)
    failures = []
    if out["modes"]["hybrid"]["hit@3"] < TARGETS["hybrid_hit@3"]:
        failures.append("hybrid hit@3")
    if out["modes"]["hybrid"]["out_of_scope_declined"] < TARGETS["out_of_scope_declined"]:
        failures.append("out-of-scope declined")
    if "scale" in out and out["scale"]["p95_ms"] > TARGETS["scale_p95_ms"]:
        failures.append("10k-chunk p95")
    out["targets"] = TARGETS
    out["failed"] = failures
    if args.json:
        print(json.dumps(out, ensure_ascii=False, indent=2))
    else:
        print_table(out)
    return 1 if failures else 0


def print_table(out: dict[str, Any]) -> None:
    print(f"corpus: {out['corpus']['summary']}")
    print(
        f"questions: {out['questions']['in_scope']} in scope, {out['questions']['out_of_scope']} out of scope; "
        f"threshold {out['threshold']} ({out['embeddings']} embeddings)"
    )
    columns = ["hit@1", "hit@3", "mrr", "answered", "out_of_scope_declined", "p50_ms", "p95_ms"]
    print(f"{'mode':8s}" + "".join(f"{c:>24s}" if c == "out_of_scope_declined" else f"{c:>10s}" for c in columns))
    for mode, row in out["modes"].items():
        print(
            f"{mode:8s}"
            + "".join(f"{row[c]:>24}" if c == "out_of_scope_declined" else f"{row[c]:>10}" for c in columns)
        )
    for miss in out.get("misses", []):
        print("  miss:", json.dumps(miss, ensure_ascii=False))
    if "scale" in out:
        s = out["scale"]
        print(
            f"scale: {s['chunks']} chunks ingested in {s['ingest_s']} s; {s['queries']} queries "
            f"p50 {s['p50_ms']} ms, p95 {s['p95_ms']} ms"
        )
    print(
        "targets:",
        ", ".join(f"{k} {v}" for k, v in out["targets"].items()),
        "->",
        "FAILED: " + ", ".join(out["failed"]) if out["failed"] else "all met",
    )


if __name__ == "__main__":
    raise SystemExit(main())
