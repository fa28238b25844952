"""Progress for long commands: a step that takes tens of seconds must show it is alive.

On a terminal the step's line is redrawn every second with the time elapsed; elsewhere (CI, a pipe)
one line when it starts and one when it ends, so captured output stays readable. Always on stderr:
stdout stays clean for --json.
"""

from __future__ import annotations

import sys
import threading
import time
from types import TracebackType
from typing import TextIO


class Ticker:
    """`with Ticker("Evaluating 230 examples"):` shows "Evaluating 230 examples … 12 s" until it ends."""

    def __init__(self, label: str, *, stream: TextIO | None = None, interval_s: float = 1.0) -> None:
        self.label = label
        self._stream = stream or sys.stderr
        self._interval = interval_s
        self._live = self._stream.isatty()
        self._done = threading.Event()
        self._thread: threading.Thread | None = None
        self._started = 0.0

    def __enter__(self) -> Ticker:
        self._started = time.monotonic()
        if self._live:
            self._thread = threading.Thread(target=self._redraw, daemon=True)
            self._thread.start()
        else:
            self._write(f"{self.label} …\n")
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self._done.set()
        if self._thread is not None:
            self._thread.join()
        line = f"{self.label}: {'failed' if kind is not None else 'done'} in {self.elapsed():.0f} s"
        self._write(f"\r{line}\033[K\n" if self._live else f"{line}\n")

    def elapsed(self) -> float:
        return time.monotonic() - self._started

    def _redraw(self) -> None:
        self._write(f"{self.label} …")
        while not self._done.wait(self._interval):
            self._write(f"\r{self.label} … {self.elapsed():.0f} s\033[K")

    def _write(self, text: str) -> None:
        self._stream.write(text)
        self._stream.flush()
