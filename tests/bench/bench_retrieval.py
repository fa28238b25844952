"""Retrieval benchmark: the dev banks (the demo, bank3, bank4), the held-out second bank and the FAQ
paraphrase set side by side, and retrieval latency at 10,000 chunks.

    python tests/bench/bench_retrieval.py [--json] [--skip-scale] [--dev-only] [--misses SET]

Per set: answered with a correct first citation (what `answer()` cites) and the gate's own figure (its
first evidence hit right), declined, out-of-scope declined, drafts/expired cited, hit@1/hit@3 of the
default pipeline (`retrieve`: `knowledge.ranking`, product-first, language) and of the hybrid fusion
vs BM25 alone vs vectors alone vs the plain character-bigram BM25 over titles, and p50/p95 of `retrieve`.
The held-out sets are reported, never tuned on. Exit 1 when a bar is missed.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from bot.knowledge.service import KnowledgeService  # noqa: E402
from bot.settings import load_settings  # noqa: E402
from tests.bench.retrieval_sets import percentile, run_set, sets  # noqa: E402

ROWS = [
    "answered_correct",
    "gate_correct",
    "answered",
    "declined",
    "out_of_scope_declined",
    "hidden_cited",
    "default_hit@1",
    "hybrid_hit@1",
    "bm25_hit@1",
    "vector_hit@1",
    "baseline_hit@1",
    "default_hit@3",
    "hybrid_hit@3",
    "bm25_hit@3",
    "vector_hit@3",
    "baseline_hit@3",
    "p50_ms",
    "p95_ms",
    "threshold",
    "questions",
    "out_of_scope",
    "ingest_s",
]


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
        service = KnowledgeService.from_settings(load_settings(data_dir=Path(tmp) / "data"))
        start = time.perf_counter()
        report = service.ingest(folder, progress=True)
        ingest_s = time.perf_counter() - start
        rng = random.Random(11)
        questions = [f"{rng.choice(_SUBJECTS)}产品的{rng.choice(_TOPICS)}怎么算？" for _ in range(queries)]
        service.retrieve("预热", language="zh", channel="web")
        latencies = []
        for question in questions:
            start = time.perf_counter()
            service.retrieve(question, language="zh", channel="web")  # search + the answer gate
            latencies.append((time.perf_counter() - start) * 1000)
        return {
            "chunks": report.chunks,
            "ingest_s": round(ingest_s, 1),
            "queries": queries,
            "p50_ms": round(percentile(latencies, 50), 2),
            "p95_ms": round(percentile(latencies, 95), 2),
        }


def bars(results: dict[str, dict[str, Any]], scale: dict[str, Any] | None) -> list[str]:
    """The issue's bars that this run misses."""
    failed = []
    demo, bank2 = results.get("demo"), results.get("bank2")
    if demo and demo["answered"] < 0.90:
        failed.append("demo answered < 0.90")
    if bank2:
        if bank2["answered_correct"] < 0.90:
            failed.append("bank2 answered-correct < 0.90")
        if bank2["out_of_scope_declined"] < 0.90:
            failed.append("bank2 out-of-scope declined < 0.90")
        if bank2["hybrid_hit@1"] < bank2["bm25_hit@1"]:
            failed.append("bank2 hybrid hit@1 < BM25")
    for name, row in results.items():
        if row["hidden_cited"]:
            failed.append(f"{name}: drafts/expired cited")
        if name.startswith("faq") and row["answered_correct"] < row["baseline_hit@1"]:
            failed.append(f"{name}: answered-correct below the title-bigram BM25")
    if scale and scale["p95_ms"] > 30.0:
        failed.append("10k-chunk p95 > 30 ms")
    return failed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.add_argument("--skip-scale", action="store_true", help="quality only")
    parser.add_argument("--dev-only", action="store_true", help="the dev sets only (demo, bank3, bank4, faq-dev)")
    parser.add_argument("--scale-chunks", type=int, default=10_000)
    parser.add_argument("--misses", choices=["demo", "bank3", "bank4", "faq-dev"], help="list the misses of a dev set")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-sets-") as tmp:
        results = {item.name: run_set(item) for item in sets(Path(tmp), heldout=not args.dev_only)}
    scale = None if args.skip_scale else scale_run(args.scale_chunks)
    failed = bars(results, scale)
    if args.json:
        out = {name: {k: v for k, v in row.items() if k != "misses"} for name, row in results.items()}
        print(json.dumps({"sets": out, "scale": scale, "failed": failed}, ensure_ascii=False, indent=2))
    else:
        print_table(results, scale, failed)
    if args.misses in results:
        for miss in results[args.misses]["misses"]:
            print("  miss:", json.dumps(miss, ensure_ascii=False))
    return 1 if failed else 0


def print_table(results: dict[str, dict[str, Any]], scale: dict[str, Any] | None, failed: list[str]) -> None:
    for name, row in results.items():
        print(f"{name}: {row['corpus']}")
    print(f"{'':24s}" + "".join(f"{name:>14s}" for name in results))
    for key in ROWS:
        print(f"{key:24s}" + "".join(f"{row[key]!s:>14s}" for row in results.values()))
    if scale:
        print(
            f"scale: {scale['chunks']} chunks ingested (and the gate calibrated) in {scale['ingest_s']} s; "
            f"{scale['queries']} questions: retrieve p50 {scale['p50_ms']} ms, p95 {scale['p95_ms']} ms"
        )
    print("bars:", "FAILED: " + "; ".join(failed) if failed else "all met")


if __name__ == "__main__":
    raise SystemExit(main())
