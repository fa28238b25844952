"""Keeps the Rasa child alive: start it, reap it when it exits, restart it with exponential backoff.

One watcher thread owns the child: it spawns it (so the kernel's parent-death signal, tied to the
spawning thread, fires only when supervision ends), waits for it to answer /status, then blocks in
`wait()`, which reaps the child the moment it exits: no zombie is left. The exit is logged and the
child started again after `restart_backoff_s`, doubling up to `restart_backoff_max_s` while it keeps
dying before it becomes ready. Meanwhile `state` is "restarting" (shown by /healthz) and every
channel degrades as when Rasa is unreachable (503 with the hotline).
"""

from __future__ import annotations

import logging
import subprocess
import threading
import time
from pathlib import Path
from typing import Literal

from bot.errors import DialogueUnavailable
from bot.runtime import rasa_process
from bot.settings import Settings

logger = logging.getLogger(__name__)
State = Literal["starting", "up", "restarting", "stopped"]
_PROBE_INTERVAL_S = 0.5


class RasaSupervisor:
    """The supervised `rasa run` child of this process."""

    def __init__(
        self, launch: rasa_process.RasaLaunch, *, backoff_s: float, backoff_max_s: float, startup_timeout_s: float
    ) -> None:
        self._launch = launch
        self._backoff_s = backoff_s
        self._backoff_max_s = backoff_max_s
        self._startup_timeout_s = startup_timeout_s
        self._state: State = "starting"
        self._process: subprocess.Popen[bytes] | None = None
        self._status: dict[str, object] | None = None
        self._failed_start: str | None = None
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._watch, name="rasa-supervisor", daemon=True)
        self.restarts = 0

    @classmethod
    def from_settings(
        cls, settings: Settings, *, model: Path, action_url: str, log_file: Path | None = None, replica: int = 0
    ) -> RasaSupervisor:
        """Supervise `rasa run` with this model, Rasa calling the actions at `action_url` (replica n of
        rasa.replicas on rasa.port + n)."""
        launch = rasa_process.prepare(settings, model=model, action_url=action_url, log_file=log_file, replica=replica)
        rasa = settings.rasa
        return cls(
            launch,
            backoff_s=rasa.restart_backoff_s,
            backoff_max_s=rasa.restart_backoff_max_s,
            startup_timeout_s=rasa.startup_timeout_s,
        )

    @property
    def state(self) -> State:
        return self._state

    @property
    def pid(self) -> int | None:
        process = self._process
        return process.pid if process is not None else None

    @property
    def url(self) -> str:
        return self._launch.url

    @property
    def log_path(self) -> Path:
        return self._launch.log_path

    def start(self) -> None:
        """Start supervising (returns at once; Rasa takes ~45 s to load its model)."""
        self._thread.start()

    def wait_until_ready(self, *, timeout: float) -> dict[str, object]:
        """Block until Rasa first answers /status with a model; DialogueUnavailable if it died or timed out."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._state == "up" and self._status is not None:
                return self._status
            if self._failed_start is not None:
                raise DialogueUnavailable(self._failed_start)
            if self._stop.wait(_PROBE_INTERVAL_S):
                break
        raise DialogueUnavailable(f"rasa not ready after {timeout:.0f}s (state {self._state})")

    def stop(self, timeout: float = 15.0) -> None:
        """Stop supervising and terminate the child (idempotent)."""
        with self._lock:
            self._stop.set()
            process = self._process
        if process is not None:
            rasa_process.stop_process(process, timeout=timeout)
        if self._thread.is_alive():
            self._thread.join(timeout=timeout)
        self._state = "stopped"

    # -- the watcher thread ------------------------------------------------------------------------

    def _watch(self) -> None:
        delay = self._backoff_s
        while True:
            with self._lock:
                if self._stop.is_set():
                    return
                process = self._process = rasa_process.spawn(self._launch)
            logger.info("rasa started (pid %s)", process.pid)
            ready = self._until_ready(process)
            code = process.wait()  # reaps the child as soon as it exits
            if self._stop.is_set():
                return
            if ready:
                delay = self._backoff_s  # it was healthy: the next failure starts the backoff afresh
            elif self._status is None:
                self._failed_start = f"rasa exited with code {code} during start-up (see {self.log_path})"
            self._state = "restarting"
            self.restarts += 1
            logger.error("rasa (pid %s) exited with code %s; restarting in %.0f s", process.pid, code, delay)
            if self._stop.wait(delay):
                return
            delay = min(delay * 2, self._backoff_max_s)

    def _until_ready(self, process: subprocess.Popen[bytes]) -> bool:
        """Poll /status until Rasa is up (True); False if it exited, or hung past the start-up timeout."""
        deadline = time.monotonic() + self._startup_timeout_s
        while process.poll() is None and not self._stop.is_set():
            status = rasa_process.probe(self._launch)
            if status is not None:
                self._status, self._state = status, "up"
                logger.info("rasa ready (pid %s, model %s)", process.pid, Path(str(status.get("model_file"))).name)
                return True
            if time.monotonic() > deadline:
                logger.error("rasa (pid %s) not ready after %.0f s; killing it", process.pid, self._startup_timeout_s)
                rasa_process.stop_process(process, timeout=5)
                return False
            self._stop.wait(_PROBE_INTERVAL_S)
        return False
