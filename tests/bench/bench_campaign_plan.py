"""Campaign benchmarks: planning 1,000,000 clients, and the dialer's calls-per-second limit.

    python tests/bench/bench_campaign_plan.py [--clients 1000000] [--repeats 3] [--json] [--skip-cps]

Planning: a synthetic client file (1% bad rows, 10% without consent, 10% recently active, 1% on the
do-not-contact list, several countries, payroll clients) is generated once; each repeat runs in a fresh
child process that reads + validates it, plans it (eligibility, segments, priority, stratified control
assignment, schedule) and stores every row in a new migrated SQLite database. Wall time and peak RSS
(resource.getrusage) are measured in the child; the baseline is a child that only parses the same CSV.
Targets: p95 wall <= 60 s and peak RSS <= 2 GB.

CPS: a real dialer run on the system clock against an in-process provider (no network) at 10 CPS
(100 calls) and 1 CPS (12 calls); the observed rate must be within 5% of the limit.
Exit status 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

TARGETS = {"plan_p95_s": 60.0, "plan_peak_rss_mb": 2048.0, "cps_error": 0.05}
AS_OF = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)
COLUMNS = "client_id,name,phone,language,consent_call,consent_date,last_activity_date,aum_band,payroll_day,risk_level,tags,advisor_id"  # noqa: E501


def generate(path: Path, n: int, seed: int = 11) -> list[str]:
    """Write n synthetic clients; returns the client ids to put on the do-not-contact list."""
    rng = random.Random(seed)
    prefixes = [("+852", "9"), ("+852", "6"), ("+65", "8"), ("+86", "13"), ("+44", "77"), ("+1", "415")]
    bands, risks = ["low", "medium", "high", "very_high"], ["C1", "C2", "C3", "C4", "C5", ""]
    today = date(2026, 12, 1)
    dnc = []
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(COLUMNS.split(","))
        for i in range(n):
            cc, lead = prefixes[i % len(prefixes)]
            width = 11 if cc == "+86" else (10 if cc == "+1" else 8)
            phone = f"{cc}{lead}{i:0{width - len(lead)}d}"
            roll = rng.random()
            consent = "no" if roll < 0.10 else "yes"
            active = 0.10 <= roll < 0.20
            last = today - timedelta(days=rng.randrange(0, 60) if active else rng.randrange(90, 900))
            if 0.20 <= roll < 0.21:
                phone = phone[:-3]  # a bad number
            if 0.21 <= roll < 0.22:
                dnc.append(f"C{i:08d}")
            writer.writerow([
                f"C{i:08d}", f"客户{i}", phone, "en" if i % 7 == 0 else "zh", consent,
                "2025-01-01" if consent == "yes" else "", last.isoformat(), bands[i % 4],
                str(rng.choice([5, 10, 15, 25])) if i % 3 == 0 else "", risks[i % 6], "vip" if i % 11 == 0 else "",
                f"A{i % 50}",
            ])  # fmt: skip
    return dnc


def child_parse(csv_path: Path) -> dict[str, Any]:
    """Baseline: only read the CSV into columns (no validation, no planning, no database)."""
    start = time.perf_counter()
    with csv_path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.reader(handle)
        next(reader)
        columns: list[list[str]] = [[] for _ in range(12)]
        for record in reader:
            for column, value in zip(columns, record, strict=False):
                column.append(value)
    return {"wall_s": time.perf_counter() - start, "rows": len(columns[0])}


def child_plan(csv_path: Path, db_url: str) -> dict[str, Any]:
    """The real pipeline: campaigns.service.create_campaign on a migrated database (timed without migration)."""
    from bot.campaigns.service import CreateOptions, create_campaign
    from bot.db import make_engine, migrate, session_factory, transaction
    from bot.settings import load_settings

    migrate(db_url)
    settings = load_settings(data_dir=csv_path.parent / "var", database={"url": db_url})
    sessions = session_factory(make_engine(db_url))
    options = CreateOptions(
        name="bench", seed=1, as_of=AS_OF, variants={"A": "script-payroll", "B": "script-dormant-reactivation"}
    )
    start = time.perf_counter()
    with transaction(sessions) as session:
        created = create_campaign(
            session, settings, options, clients_file=csv_path,
            refusal=lambda n: "Twilio cannot call +86" if n.startswith("+86") else None,
        )  # fmt: skip
    return {"wall_s": time.perf_counter() - start, "summary": created.summary}


def run_child(mode: str, csv_path: Path, db_url: str) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, __file__, "--child", mode, "--csv", str(csv_path), "--db", db_url],
        check=True, capture_output=True, text=True,
    )  # fmt: skip
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def bench_plan(n: int, repeats: int) -> dict[str, Any]:
    from bot.contacts.service import opt_out
    from bot.db import make_engine, migrate, session_factory, transaction

    with tempfile.TemporaryDirectory() as tmp:
        csv_path = Path(tmp) / "clients.csv"
        dnc = generate(csv_path, n)
        template = Path(tmp) / "template.db"
        migrate(f"sqlite:///{template}")
        engine = make_engine(f"sqlite:///{template}")
        with transaction(session_factory(engine)) as session:
            for client_id in dnc:
                opt_out(session, client_key=client_id, channel="wecom", evidence="bench")
        engine.dispose()
        baseline, runs = [], []
        for i in range(repeats):
            baseline.append(run_child("parse", csv_path, ""))
            db = Path(tmp) / f"run{i}.db"
            db.write_bytes(template.read_bytes())
            runs.append(run_child("plan", csv_path, f"sqlite:///{db}"))
    walls = [r["wall_s"] for r in runs]
    base = [b["wall_s"] for b in baseline]
    return {
        "clients": n, "repeats": repeats,
        "baseline_parse_s": {"p50": round(pct(base, 0.5), 2), "p95": round(pct(base, 0.95), 2)},
        "plan_s": {"p50": round(pct(walls, 0.5), 2), "p95": round(pct(walls, 0.95), 2)},
        "plan_vs_parse": round(statistics.median(walls) / statistics.median(base), 2),
        "baseline_peak_rss_mb": round(max(b["peak_rss_mb"] for b in baseline), 1),
        "plan_peak_rss_mb": round(max(r["peak_rss_mb"] for r in runs), 1),
        "summary": runs[-1]["summary"],
    }  # fmt: skip


def bench_cps(rate: float, calls: int) -> dict[str, Any]:
    """Dial `calls` clients at `rate` CPS on the system clock; measure the achieved rate from call times."""
    from bot.campaigns.dialer import run_campaign
    from bot.campaigns.provider import CallRequest, PlacedCall
    from bot.campaigns.service import CreateOptions, create_campaign
    from bot.db import make_engine, migrate, session_factory, transaction
    from bot.settings import load_settings

    class Provider:
        name = "bench"

        def __init__(self) -> None:
            self.times: list[float] = []

        def refusal_reason(self, number: str) -> str | None:
            return None

        async def place_call(self, request: CallRequest) -> PlacedCall:
            self.times.append(time.monotonic())
            return PlacedCall(call_sid=f"CA{len(self.times):08d}", status="queued")

    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/cps.db"
        migrate(url)
        settings = load_settings(
            data_dir=Path(tmp) / "var", database={"url": url}, telephony={"public_base_url": "https://bench.example"},
            campaigns={"calling_hours_start": "00:00", "calling_hours_end": "23:59", "rest_weekdays": [],
                       "rest_dates": [], "control_share": 0.0, "max_concurrent_calls": calls,
                       "stale_call_after_s": 2.0, "poll_interval_s": 0.2},
        )  # fmt: skip
        path = Path(tmp) / "c.csv"
        with path.open("w", encoding="utf-8", newline="") as handle:
            handle.write(COLUMNS + "\n")
            for i in range(calls):
                handle.write(f"c{i},n,+4477009{i:05d},en,yes,2025-01-01,2025-01-01,high,,C3,,A1\n")
        sessions = session_factory(make_engine(url))
        with transaction(sessions) as session:
            created = create_campaign(session, settings, CreateOptions(name="cps", seed=1), clients_file=path,
                                      refusal=lambda _n: None)  # fmt: skip
        provider = Provider()
        asyncio.run(run_campaign(sessions=sessions, provider=provider, settings=settings,
                                 campaign_id=created.campaign_id, cps=rate, progress=False))  # fmt: skip
    gaps = [b - a for a, b in zip(provider.times, provider.times[1:], strict=False)]
    observed = (len(provider.times) - 1) / (provider.times[-1] - provider.times[0])
    return {
        "target_cps": rate, "calls": len(provider.times), "observed_cps": round(observed, 4),
        "error": round(abs(observed - rate) / rate, 4),
        "gap_ms": {"p50": round(pct(gaps, 0.5) * 1000, 1), "p95": round(pct(gaps, 0.95) * 1000, 1),
                   "max": round(max(gaps) * 1000, 1)},
    }  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--skip-cps", action="store_true")
    parser.add_argument("--skip-plan", action="store_true")
    parser.add_argument("--child", choices=["parse", "plan"])
    parser.add_argument("--csv", type=Path)
    parser.add_argument("--db", default="")
    args = parser.parse_args()
    if args.child:
        result = child_parse(args.csv) if args.child == "parse" else child_plan(args.csv, args.db)
        result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(json.dumps(result, ensure_ascii=False))
        return 0
    report: dict[str, Any] = {"targets": TARGETS}
    failed = []
    if not args.skip_plan:
        plan = report["plan"] = bench_plan(args.clients, args.repeats)
        if plan["plan_s"]["p95"] > TARGETS["plan_p95_s"]:
            failed.append("plan_p95_s")
        if plan["plan_peak_rss_mb"] > TARGETS["plan_peak_rss_mb"]:
            failed.append("plan_peak_rss_mb")
    if not args.skip_cps:
        report["cps"] = [bench_cps(10.0, 100), bench_cps(1.0, 12)]
        if any(c["error"] > TARGETS["cps_error"] for c in report["cps"]):
            failed.append("cps_error")
    report["failed"] = failed
    if args.json:
        print(json.dumps(report, ensure_ascii=False, indent=2))
    else:
        if "plan" in report:
            p = report["plan"]
            print(
                f"plan {p['clients']:,} clients x{p['repeats']}: p50 {p['plan_s']['p50']} s, p95 {p['plan_s']['p95']} s"
                f" (target <= {TARGETS['plan_p95_s']} s); peak RSS {p['plan_peak_rss_mb']} MB (target <= 2048)"
            )
            print(
                f"  baseline parse only: p50 {p['baseline_parse_s']['p50']} s, p95 {p['baseline_parse_s']['p95']} s,"
                f" peak RSS {p['baseline_peak_rss_mb']} MB; plan/parse = {p['plan_vs_parse']}x"
            )
            keys = ("rows", "rejected", "excluded", "eligible", "arms")
            print(f"  summary: {json.dumps({k: p['summary'][k] for k in keys})}")
        for c in report.get("cps", []):
            print(
                f"cps target {c['target_cps']}: observed {c['observed_cps']} over {c['calls']} calls, error"
                f" {c['error']:.2%} (target <= 5%); gaps p50 {c['gap_ms']['p50']} ms p95 {c['gap_ms']['p95']} ms"
            )
        print("FAILED: " + ", ".join(failed) if failed else "all targets met")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
