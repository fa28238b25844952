"""Compliance guard micro-benchmark: p50/p95 of one `check()` per sentence, as the live guard calls it.

    python tests/bench/bench_guard.py [--json] [--rounds 7]

Sentences are every text of the two labelled sets (the project's own and the held-out one: only
their texts are used, as a realistic mix of lengths, languages and near-violations), checked with
the demo catalogue and disclosures on, the way `OutgoingGuard` checks each outgoing message. Rules
are loaded once before timing (as in a running app). Each sentence is timed `rounds` times and its
median kept, so a busy shared machine does not turn one descheduled call into the p95. Exit status 1
when p95 exceeds the target.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from bot.compliance import check  # noqa: E402
from bot.compliance.rules import load_rules  # noqa: E402
from bot.roleplay.catalogue import load_catalogue  # noqa: E402

SETS = (
    REPO / "tests" / "data" / "compliance_labelled.yml",
    REPO / "tests" / "data" / "heldout" / "compliance_sentences.yml",
)
TARGETS = {"p95_ms": 2.0}


def texts() -> list[str]:
    """Every labelled text, in file order."""
    out: list[str] = []
    for path in SETS:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        out.extend(str(item["text"]) for item in data["items"])
    return out


def run(rounds: int) -> dict[str, float]:
    catalogue = load_catalogue(REPO / "knowledge_base" / "products.yml")
    sentences = texts()
    load_rules()
    check("预热 warm-up", products=catalogue)
    runs: list[list[float]] = [[] for _ in sentences]
    for _ in range(rounds):
        for index, text in enumerate(sentences):
            start = time.perf_counter()
            check(text, products=catalogue, client_risk_level="C3")
            runs[index].append((time.perf_counter() - start) * 1000)
    timings = sorted(statistics.median(r) for r in runs)
    return {
        "sentences": len(sentences),
        "rounds": rounds,
        "p50_ms": round(statistics.median(timings), 3),
        "p95_ms": round(timings[int(0.95 * (len(timings) - 1))], 3),
        "max_ms": round(timings[-1], 3),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    result = run(args.rounds)
    if args.json:
        print(json.dumps(result))
    else:
        print(
            f"guard check(): {result['sentences']} sentences, median of {result['rounds']} runs each  "
            f"p50 {result['p50_ms']} ms  p95 {result['p95_ms']} ms  max {result['max_ms']} ms "
            f"(target p95 <= {TARGETS['p95_ms']} ms)"
        )
    return 0 if result["p95_ms"] <= TARGETS["p95_ms"] else 1


if __name__ == "__main__":
    sys.exit(main())
