"""`make bench-dialogue`: the multi-turn conversation set (issue 13) end to end, dev and holdout side by side.

A real stack (Rasa, the app, an embedded Chroma store, SQLite): the dev split on the demo content as
示例银行, the holdout split on the second bank's content as 澄江银行, each with its own hotline. Prints the
share of per-turn checks held per split, check kind and conversation kind, and the issue's hard counts
(bars: zero leads or opt-outs from junk or injected text, zero hang-ups on an interested caller); writes
them as JSON. Held-out failures are never listed (`--dev-failures` lists the dev ones).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.support.conversation_report import report, table, write
from tests.support.conversation_stack import conversation_stack
from tests.support.conversations import CONVERSATIONS, SPLITS, load_conversations, run_split

OUT = Path(__file__).resolve().parents[2] / "var" / "reports" / "conversations-bench.json"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--split", choices=SPLITS, action="append", help="run only this split (repeatable)")
    parser.add_argument("--dev-failures", action="store_true", help="list the failed dev checks")
    parser.add_argument("--json", action="store_true", help="print the JSON instead of the table")
    parser.add_argument("--out", type=Path, default=OUT, help=f"where the JSON goes (default {OUT})")
    args = parser.parse_args()
    conversations = load_conversations()
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp, conversation_stack(Path(tmp)) as stack:
        runs = [run_split(stack, conversations, split) for split in args.split or SPLITS]
    figures = report(runs)
    figures["total_seconds"] = round(time.perf_counter() - started, 1)  # Rasa's start-up and ingestion included
    write(figures, args.out)
    if args.json:
        print(json.dumps(figures, ensure_ascii=False, indent=2))
    else:
        print(f"{CONVERSATIONS.relative_to(CONVERSATIONS.parents[3])} (issue 13): per-turn checks held")
        print(table(figures, dev_failures=args.dev_failures))
        print(f"total {figures['total_seconds']:.0f} s (Rasa start-up and ingestion included); JSON: {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
