"""`make bench` (first part): how long `advisor` commands take to start, next to `python -c pass`.

Each command is run as a fresh process, as a person runs it; the median of several runs is reported,
wall time. Target (issue 15): `advisor --help` and light commands under 0.5 s on this machine. Light
commands read no database and no model; commands that do (campaign list, kb ingest...) are listed for
information only.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
ADVISOR = REPO / ".venv" / "bin" / "advisor"
TARGET_S = 0.5
LIGHT = [
    ["--help"],
    ["campaign", "--help"],
    ["campaign", "outcomes", "--help"],
    ["telephony", "--help"],
    ["console", "new-key", "grafana"],
]
INFORMATION = [["campaign", "list", "--json"]]


def wall(command: list[str], *, runs: int, env: dict[str, str]) -> float:
    """Median wall-clock seconds of `runs` fresh processes (one warm-up run first, not counted)."""
    times = []
    for i in range(runs + 1):
        start = time.perf_counter()
        done = subprocess.run(command, cwd=REPO, env=env, capture_output=True, check=False)
        elapsed = time.perf_counter() - start
        if done.returncode != 0:
            raise SystemExit(f"{' '.join(command)} failed: {done.stderr.decode(errors='replace')[-500:]}")
        if i:
            times.append(elapsed)
    return statistics.median(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "ADVISOR_DATA_DIR": tmp}  # `campaign list` must not touch the real database
        baseline = wall([sys.executable, "-c", "pass"], runs=args.runs, env=env)
        light = {" ".join(c): wall([str(ADVISOR), *c], runs=args.runs, env=env) for c in LIGHT}
        other = {" ".join(c): wall([str(ADVISOR), *c], runs=args.runs, env=env) for c in INFORMATION}
    result = {
        "python_c_pass_s": round(baseline, 3),
        "light_commands_s": {k: round(v, 3) for k, v in light.items()},
        "database_commands_s": {k: round(v, 3) for k, v in other.items()},
        "target_s": TARGET_S,
        "meets_target": all(v < TARGET_S for v in light.values()),
    }
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    print(f"command start-up, median of {args.runs} fresh processes (wall):")
    print(f"  python -c pass                    {baseline:.3f} s")
    for name, seconds in light.items():
        mark = "ok" if seconds < TARGET_S else f"over {TARGET_S} s"
        print(f"  advisor {name:<26}{seconds:.3f} s  {mark}")
    for name, seconds in other.items():
        print(f"  advisor {name:<26}{seconds:.3f} s  (reads the database; for information)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
