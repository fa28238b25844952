"""Throwaway Redis and Chroma servers for the scale-out tests, each on a free loopback port in a temporary
folder, stopped (and the folder deleted) when the block exits. Missing binaries are a skip with the
reason, never a fake."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from bot.settings import REPO_ROOT
from tests.support.servers import free_port


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=5)


def _wait(ready: object, process: subprocess.Popen[bytes], what: str, log: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            break
        if ready():  # type: ignore[operator]
            return
        time.sleep(0.1)
    _stop(process)
    raise RuntimeError(f"{what} did not start: {log.read_text(errors='replace')[-2000:]}")


@contextmanager
def redis_server() -> Iterator[str]:
    """redis-server with no persistence (locks only); yields redis://127.0.0.1:<port>/1."""
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("redis-server not installed (apt-get install redis-server; `make test-scale` does it as root)")
    root, port = Path(tempfile.mkdtemp(prefix="advisor-redis-")), free_port()
    log = root / "redis.log"
    with log.open("wb") as out:  # the child keeps its own copy of the descriptor
        process = subprocess.Popen(
            [
                binary,
                "--port",
                str(port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(root),
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
        )

    def ready() -> bool:
        try:
            return subprocess.run([binary.replace("server", "cli"), "-p", str(port), "ping"],
                                  capture_output=True, timeout=2).stdout.strip() == b"PONG"  # fmt: skip
        except (OSError, subprocess.TimeoutExpired):
            return False

    try:
        _wait(ready, process, "redis-server", log)
        yield f"redis://127.0.0.1:{port}/1"
    finally:
        _stop(process)
        shutil.rmtree(root, ignore_errors=True)


@contextmanager
def chroma_server() -> Iterator[int]:
    """`chroma run` from the installed chromadb package; yields its port."""
    binary = REPO_ROOT / ".venv" / "bin" / "chroma"
    if not binary.exists():
        pytest.skip("the chroma CLI (chromadb in .venv) is missing: make bootstrap")
    root, port = Path(tempfile.mkdtemp(prefix="advisor-chroma-")), free_port()
    log = root / "chroma.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [str(binary), "run", "--path", str(root / "data"), "--host", "127.0.0.1", "--port", str(port)],
            stdout=out,
            stderr=subprocess.STDOUT,
        )

    def ready() -> bool:
        try:
            return httpx.get(f"http://127.0.0.1:{port}/api/v2/heartbeat", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    try:
        _wait(ready, process, "chroma run", log)
        yield port
    finally:
        _stop(process)
        shutil.rmtree(root, ignore_errors=True)
