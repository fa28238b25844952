"""A fake CRM webhook served over real loopback HTTP: checks signatures, fails on cue, dedups by event id."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import threading
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI, Request, Response

SECRET = "crm-test-secret"


@dataclass
class Delivery:
    """One request the CRM received, and what it answered."""

    event_id: str
    status: int
    body: bytes


@dataclass
class FakeCRM:
    """Answers the first `failures` requests with these statuses (cycled), then 200.

    Like a careful real CRM it records each event id once, however often it arrives.
    """

    failures: int = 0
    statuses: tuple[int, ...] = (500, 503, 429, 502)
    slow_first_s: float = 0.0
    deliveries: list[Delivery] = field(default_factory=list)
    events: dict[str, dict[str, Any]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def acknowledged(self) -> list[str]:
        with self.lock:
            return [d.event_id for d in self.deliveries if 200 <= d.status < 300]

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.post("/crm/leads")
        async def receive(request: Request) -> Response:
            body = await request.body()
            expected = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
            event_id = request.headers.get("x-idempotency-key", "")
            with self.lock:
                seen = len(self.deliveries)
            if not hmac.compare_digest(request.headers.get("x-signature", ""), expected):
                status = 401
            elif seen < self.failures:
                status = self.statuses[seen % len(self.statuses)]
            else:
                status = 200
            if seen == 0 and self.slow_first_s:
                await asyncio.sleep(self.slow_first_s)
            with self.lock:
                self.deliveries.append(Delivery(event_id, status, body))
                if status == 200:
                    self.events.setdefault(event_id, json.loads(body))
            headers = {"Retry-After": "0"} if status in {429, 503} else {}
            return Response(status_code=status, headers=headers)

        return app
