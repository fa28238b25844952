"""`make bench-scale`: chat throughput and latency at 20 and 50 concurrent conversations with one and with
two Rasa replicas, side by side in one run.

The shape is the scale-out one (README, "Scaling out"): Rasa replicas sharing a PostgreSQL tracker store
and a Redis lock store, and the app as its own process (`advisor run` with `rasa.urls`: it starts no Rasa)
on a PostgreSQL database and a Chroma server, all throwaway servers started here (tests/support). The
load generator is this process: N conversations at once, each a warm-up turn then a fixed script of small
talk and knowledge questions (the two kinds of turn `make bench` reports), every turn timed. Throughput is
answered turns per second of wall time; an error is any answer but 200. Issue 18's bar: with 2 replicas,
throughput at 50 conversations at least 1.4 times one replica's, with 0 errors.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bot.runtime import rasa_process
from bot.runtime.supervisor import RasaSupervisor
from bot.settings import REPO_ROOT, Settings, load_settings
from tests.bench.bench_chat import percentile
from tests.support.postgres import throwaway_postgres
from tests.support.scale_servers import chroma_server, redis_server
from tests.support.scale_stack import ingest_demo, scale_settings
from tests.support.stack import E2E_ACTION_SECRET, E2E_RASA_TOKEN

BAR_SPEEDUP = 1.4
SCRIPT = ["你好", "朝夕怎么赎回？", "谢谢", "货币基金赎回多久到账", "你是机器人吗", "季享多少钱起购"]


def app_env(settings: Settings) -> dict[str, str]:
    """The app process's settings, as an operator would give them: ADVISOR_* variables."""
    rasa, knowledge = settings.rasa, settings.knowledge
    env = {
        "ADVISOR_DATA_DIR": str(settings.data_dir),
        "ADVISOR_APP__PORT": str(settings.app.port),
        "ADVISOR_APP__LOG_TO": "file",
        "ADVISOR_APP__LOG_LEVEL": "WARNING",
        "ADVISOR_RASA__URLS": json.dumps(rasa.replica_urls),
        "ADVISOR_RASA__AUTH_TOKEN": E2E_RASA_TOKEN,
        "ADVISOR_RASA__ACTION_SECRET": E2E_ACTION_SECRET,
        "ADVISOR_RASA__TRACKER_STORE": rasa.tracker_store or "",
        "ADVISOR_DATABASE__URL": settings.database_url,
        "ADVISOR_KNOWLEDGE__CHROMA_MODE": knowledge.chroma_mode,
        "ADVISOR_KNOWLEDGE__CHROMA_PORT": str(knowledge.chroma_port),
        "ADVISOR_RATE_LIMITS__TURNS_PER_SENDER": "100000",
        "ADVISOR_RATE_LIMITS__TURNS_PER_ADDRESS": "100000000",
    }
    return {**{k: v for k, v in os.environ.items() if not k.startswith("ADVISOR_")}, **env}


@contextmanager
def running_shape(settings: Settings) -> Iterator[str]:
    """The Rasa replicas (supervised here) and the app process; yields the app's URL once /readyz is 200."""
    model, _ = rasa_process.train(load_settings())
    action_url = f"http://127.0.0.1:{settings.app.port}/webhook"
    with ExitStack() as stack:
        log = (settings.data_dir / "app.out").open("wb")
        stack.callback(log.close)
        app = subprocess.Popen(
            [str(REPO_ROOT / ".venv" / "bin" / "advisor"), "run"], env=app_env(settings), stdout=log,
            stderr=subprocess.STDOUT, cwd=REPO_ROOT,
        )  # fmt: skip
        stack.callback(app.wait, timeout=30)
        stack.callback(app.terminate)
        for n in range(settings.rasa.replicas):
            supervisor = RasaSupervisor.from_settings(
                settings, model=model, action_url=action_url, log_file=settings.data_dir / f"rasa-{n}.log", replica=n
            )
            supervisor.start()
            stack.callback(supervisor.stop)
        url = f"http://127.0.0.1:{settings.app.port}"
        deadline = time.monotonic() + settings.rasa.startup_timeout_s
        while True:
            try:
                if httpx.get(f"{url}/readyz", timeout=30).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline or app.poll() is not None:
                raise SystemExit(f"the shape did not become ready; see {settings.data_dir}")
            time.sleep(1)
        yield url


async def conversation(client: httpx.AsyncClient, url: str, timings: list[float], errors: list[str]) -> None:
    sender = uuid.uuid4().hex
    await client.post(f"{url}/api/chat", json={"sender_id": sender, "message": "你好"})  # session start: not timed
    for text in SCRIPT:
        start = time.perf_counter()
        try:
            response = await client.post(f"{url}/api/chat", json={"sender_id": sender, "message": text})
            status = str(response.status_code)
        except httpx.HTTPError as exc:
            status = type(exc).__name__
        if status == "200":
            timings.append((time.perf_counter() - start) * 1000)
        else:
            errors.append(status)


async def load(url: str, concurrent: int, rounds: int) -> dict[str, Any]:
    """`rounds` waves of `concurrent` conversations at once; throughput over the timed turns' wall time."""
    timings: list[float] = []
    errors: list[str] = []
    limits = httpx.Limits(max_connections=concurrent + 10, max_keepalive_connections=concurrent + 10)
    async with httpx.AsyncClient(timeout=60, limits=limits) as client:
        await conversation(client, url, [], [])  # warm the path once
        start = time.perf_counter()
        for _ in range(rounds):
            await asyncio.gather(*(conversation(client, url, timings, errors) for _ in range(concurrent)))
        wall = time.perf_counter() - start
    return {
        "concurrent": concurrent,
        "turns": len(timings),
        "errors": len(errors),
        "error_kinds": sorted(set(errors)),
        "turns_per_s": round(len(timings) / wall, 2),
        "p50_ms": round(percentile(timings, 50), 1) if timings else None,
        "p95_ms": round(percentile(timings, 95), 1) if timings else None,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=2, help="waves of conversations per measurement")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    results: dict[str, list[dict[str, Any]]] = {}
    with throwaway_postgres() as postgres, redis_server() as redis_url, chroma_server() as chroma_port:
        for replicas in (1, 2):
            with tempfile.TemporaryDirectory() as tmp:
                settings = scale_settings(
                    Path(tmp), postgres=postgres, redis_url=redis_url, chroma_port=chroma_port, replicas=replicas
                )
                if replicas == 1:
                    ingest_demo(settings)
                with running_shape(settings) as url:
                    results[str(replicas)] = [asyncio.run(load(url, c, args.rounds)) for c in (20, 50)]
    one, two = results["1"][1], results["2"][1]
    speedup = round(two["turns_per_s"] / one["turns_per_s"], 2)
    summary = {
        "by_replicas": results,
        "speedup_at_50": speedup,
        "bar": {"speedup": BAR_SPEEDUP, "met": speedup >= BAR_SPEEDUP and two["errors"] == 0},
        "cpus": os.cpu_count(),
    }
    if args.json:
        print(json.dumps(summary, indent=2))
        return 0
    print(f"chat turns on the scale-out shape ({os.cpu_count()} CPUs), {args.rounds} waves per measurement:")
    print("  replicas  conversations  turns  errors  turns/s   p50 ms   p95 ms")
    for count, rows in results.items():
        for r in rows:
            print(f"  {count:>8}  {r['concurrent']:>13}  {r['turns']:>5}  {r['errors']:>6}  {r['turns_per_s']:>7}"
                  f"  {r['p50_ms']:>7}  {r['p95_ms']:>7}")  # fmt: skip
    print(f"  2 replicas / 1 at 50 conversations: {speedup}x (bar ≥ {BAR_SPEEDUP}x with 0 errors: "
          f"{'met' if summary['bar']['met'] else 'NOT met'})")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
