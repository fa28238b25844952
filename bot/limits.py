"""Limits that keep one caller from exhausting the app: request body sizes, bounded inflating, turn rates.

- `BodyLimitMiddleware` refuses a body over its route's limit (413) from the declared Content-Length,
  and stops reading a streamed one as soon as it passes the limit: no handler ever holds more.
- `inflate` decompresses a deflate/gzip body in bounded steps (zlib's `max_length`), so a small bomb
  is refused after `limit` bytes instead of filling memory.
- `SlidingWindow` counts events per key (a sender, a client address) in the last `window_s` seconds, in
  this process's memory; `RateWindow` is what a turn counter offers the async channels, so a window shared
  by every app process (bot/dialogue/rate_limits.py, in the app database) can stand in for it.
"""

from __future__ import annotations

import json
import threading
import time
import zlib
from collections import OrderedDict, deque
from collections.abc import Callable, Mapping
from typing import Protocol

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

_WBITS = {"deflate": zlib.MAX_WBITS, "gzip": 16 + zlib.MAX_WBITS}


class BodyTooLarge(HTTPException):
    """413: the body (or what it inflates to) is over the route's limit."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"request body larger than {limit} bytes / 请求内容过大")


class BodyLimitMiddleware:
    """One size limit for every request body, with a larger one on the few routes that need it."""

    def __init__(self, app: ASGIApp, *, default: int, routes: Mapping[str, int] | None = None) -> None:
        self._app = app
        self._default = default
        self._routes = dict(routes or {})

    def limit_for(self, path: str) -> int:
        return self._routes.get(path, self._default)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        limit = self.limit_for(scope["path"])
        declared = dict(scope["headers"]).get(b"content-length", b"")
        if declared.isdigit() and int(declared) > limit:
            await _refuse(send, limit)
            return
        received = 0
        started = False

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(limit)  # FastAPI renders it; the except below covers other readers
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self._app(scope, limited_receive, tracking_send)
        except BodyTooLarge:
            if started:
                raise
            await _refuse(send, limit)


async def _refuse(send: Send, limit: int) -> None:
    """The app's one error shape, sent straight from the middleware."""
    detail = BodyTooLarge(limit).detail
    body = json.dumps({"error": "http_413", "detail": [{"field": "body", "problem": detail}]}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": 413, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def inflate(body: bytes, *, encoding: str, limit: int) -> bytes:
    """The decompressed body; BodyTooLarge past `limit`, ValueError for an unknown or broken encoding."""
    wbits = _WBITS.get(encoding.strip().lower())
    if wbits is None:
        raise ValueError(f"unsupported content-encoding {encoding!r}")
    inflater = zlib.decompressobj(wbits)
    try:
        out = inflater.decompress(body, limit + 1)
    except zlib.error as exc:
        raise ValueError(f"broken {encoding} body: {exc}") from exc
    if len(out) > limit or inflater.unconsumed_tail:
        raise BodyTooLarge(limit)
    if not inflater.eof:
        raise ValueError(f"truncated {encoding} body")
    return out


class RateWindow(Protocol):
    """At most a number of events per key in a sliding window."""

    async def count(self, key: str) -> float | None:
        """Count one event; None if allowed, else the seconds until the key may try again."""
        ...


class SlidingWindow:
    """At most `limit` events per key in any `window_s` seconds; thread-safe, memory bounded by `max_keys`."""

    def __init__(
        self,
        *,
        limit: int,
        window_s: float,
        max_keys: int = 100_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._limit = limit
        self._window = window_s
        self._max_keys = max_keys
        self._clock = clock
        self._events: OrderedDict[str, deque[float]] = OrderedDict()
        self._lock = threading.Lock()

    def hit(self, key: str) -> float | None:
        """Count one event; None if allowed, else the seconds until the key may try again."""
        now = self._clock()
        with self._lock:
            times = self._events.setdefault(key, deque())
            self._events.move_to_end(key)
            while times and now - times[0] >= self._window:
                times.popleft()
            if len(times) >= self._limit:
                return max(self._window - (now - times[0]), 0.0)
            times.append(now)
            if len(self._events) > self._max_keys:  # forget the least recently seen key
                self._events.popitem(last=False)
            return None

    async def count(self, key: str) -> float | None:
        """`hit` for async callers (memory only: nothing blocks)."""
        return self.hit(key)
