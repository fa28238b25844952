"""The Rasa supervisor on a stand-in child process (a tiny HTTP server answering /status like Rasa):
it reaps an exited child at once, restarts it with exponential backoff, and says so in its state and log.
The same behaviour with a real Rasa is tested end to end in tests/e2e/test_supervision.py."""

from __future__ import annotations

import logging
import os
import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from bot.errors import DialogueUnavailable
from bot.runtime.rasa_process import RasaLaunch
from bot.runtime.supervisor import RasaSupervisor
from tests.support.servers import free_port

# Answers GET /status like Rasa once "loaded"; exits at once with code 3 when told to crash.
FAKE_RASA = """
import http.server, json, sys
port, crash = int(sys.argv[1]), sys.argv[2] == "crash"
if crash:
    sys.exit(3)
class Status(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = json.dumps({"model_file": "models/advisor-fake.tar.gz"}).encode()
        self.send_response(200); self.send_header("Content-Type", "application/json"); self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args):
        pass
http.server.HTTPServer(("127.0.0.1", port), Status).serve_forever()
"""


def _supervisor(tmp_path: Path, mode: str, *, backoff_s: float = 0.05, backoff_max_s: float = 0.4) -> RasaSupervisor:
    port = free_port()
    launch = RasaLaunch(
        cmd=[sys.executable, "-c", FAKE_RASA, str(port), mode],
        cwd=tmp_path,
        env=dict(os.environ),
        log_path=tmp_path / "rasa.log",
        url=f"http://127.0.0.1:{port}",
        token="t",
    )
    return RasaSupervisor(launch, backoff_s=backoff_s, backoff_max_s=backoff_max_s, startup_timeout_s=30)


def _until(condition: Callable[[], bool], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def test_a_killed_child_is_reaped_logged_and_restarted(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    supervisor = _supervisor(tmp_path, "serve", backoff_s=0.5)
    supervisor.start()
    try:
        supervisor.wait_until_ready(timeout=20)
        first = supervisor.pid
        assert first is not None and supervisor.state == "up"
        with caplog.at_level(logging.INFO, logger="bot.runtime.supervisor"):
            os.kill(first, signal.SIGKILL)
            _until(lambda: supervisor.state == "restarting")
            _until(lambda: not Path(f"/proc/{first}").exists())  # reaped, not a zombie
            _until(lambda: supervisor.state == "up")
        assert supervisor.pid not in (None, first) and supervisor.restarts == 1
        assert any("exited with code -9" in r.getMessage() for r in caplog.records)
    finally:
        supervisor.stop()
    assert supervisor.state == "stopped"


def test_a_child_that_keeps_dying_is_restarted_with_growing_delays(tmp_path: Path) -> None:
    supervisor = _supervisor(tmp_path, "crash", backoff_s=0.1, backoff_max_s=0.4)
    started = time.monotonic()
    supervisor.start()
    try:
        with pytest.raises(DialogueUnavailable, match="exited with code 3"):
            supervisor.wait_until_ready(timeout=5)
        _until(lambda: supervisor.restarts >= 4)
        elapsed = time.monotonic() - started
        # delays 0.1 + 0.2 + 0.4 (capped) before the 4th start: no hot loop, and no endless wait either
        assert 0.6 < elapsed < 5, elapsed
        assert supervisor.state == "restarting"
    finally:
        supervisor.stop()
