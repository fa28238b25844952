"""Cost of a masked JSON log line against stdlib's plain formatter, measured in the same run.

Run: .venv/bin/python tests/observability/bench_logging.py  (prints p50/p95 per line and the ratio).
"""

from __future__ import annotations

import logging
import statistics
import time

from bot.observability.logging import JsonFormatter

MESSAGES = [
    ("callback booked for %s at %s", ("+8613800138000", "2026-12-02 15:00")),
    ("guard blocked a %s message: %s", ("web", ["guarantee"])),
    ('127.0.0.1:5000 - "POST /api/chat HTTP/1.1" %d', (200,)),
    ("lead %d recorded from 姓名: 张三 手机 %s", (42, "13912345678")),
]


def _timings(formatter: logging.Formatter, rounds: int = 20_000) -> list[float]:
    records = [logging.LogRecord("bot.bench", logging.INFO, __file__, 1, msg, args, None) for msg, args in MESSAGES]
    out = []
    for i in range(rounds):
        record = records[i % len(records)]
        started = time.perf_counter_ns()
        formatter.format(record)
        out.append((time.perf_counter_ns() - started) / 1000)
    return out


def main() -> None:
    plain = _timings(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    masked = _timings(JsonFormatter())
    for name, values in (("plain", plain), ("json+mask", masked)):
        q = statistics.quantiles(values, n=100)
        print(f"{name:10s} p50={q[49]:.1f} µs  p95={q[94]:.1f} µs")
    ratio = statistics.median(masked) / statistics.median(plain)
    print(f"ratio (p50 json+mask / plain) = {ratio:.1f}x")


if __name__ == "__main__":
    main()
