"""A real Rasa child killed with SIGKILL: the app's process reaps it (no zombie), /healthz says
"restarting" while channels degrade to the busy reply, then Rasa is back and answers again. Its command
line never carries the API token."""

from __future__ import annotations

import os
import signal
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from tests.support.stack import E2E_ACTION_SECRET, E2E_RASA_TOKEN, Stack

pytestmark = pytest.mark.e2e


def _until(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


def _health(stack: Stack) -> dict[str, object]:
    body: dict[str, object] = httpx.get(f"{stack.app_url}/healthz", timeout=10).json()
    return body


def _chat(stack: Stack, text: str) -> httpx.Response:
    return httpx.post(f"{stack.app_url}/api/chat", json={"sender_id": uuid.uuid4().hex, "message": text}, timeout=30)


def test_rasa_command_line_holds_no_secret(stack: Stack) -> None:
    pid = stack.supervisor.pid
    assert pid is not None
    cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    assert "rasa_launcher.py run" in cmdline and "--enable-api" in cmdline
    assert E2E_RASA_TOKEN not in cmdline and "--auth-token" not in cmdline
    assert E2E_ACTION_SECRET not in cmdline


def test_killed_rasa_is_reaped_reported_and_restarted(stack: Stack) -> None:
    assert _health(stack)["status"] == "ok"
    old = stack.supervisor.pid
    assert old is not None
    os.kill(old, signal.SIGKILL)

    _until(lambda: not Path(f"/proc/{old}").exists(), 10, "the dead child to be reaped")  # no zombie left
    _until(lambda: _health(stack)["rasa"] == {"reachable": False, "model": None, "state": "restarting"}, 10,
           "/healthz to report the restart")  # fmt: skip
    degraded = _chat(stack, "你好")
    assert degraded.status_code == 503 and stack.settings.app.hotline in degraded.json()["message"]

    _until(lambda: _health(stack)["status"] == "ok", stack.settings.rasa.startup_timeout_s, "Rasa to be back")
    assert stack.supervisor.pid not in (None, old) and stack.supervisor.restarts >= 1
    health = _health(stack)
    assert health["rasa"] == {"reachable": True, "model": stack.model.name, "state": "up"}
    back = _chat(stack, "你好")
    assert back.status_code == 200 and back.json()["messages"]
