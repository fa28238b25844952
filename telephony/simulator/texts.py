"""The simulator's Messages endpoint: texts as the twilio SDK sends them, and callees who open their links.

A callee whose scenario says `on_text: open_link` opens the first http(s) link of a text after
`open_after_s` (in the demo: the advisor's WeCom QR code on the WeCom simulator, which then adds the
advisor and calls the app back, as WeCom would).
"""

from __future__ import annotations

import asyncio
import logging
import re
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx

from telephony.simulator.scenario import Pickup

logger = logging.getLogger(__name__)
_LINK = re.compile(r"https?://[^\s，。！？、）)\"'<>]+")


@dataclass
class SimText:
    """One text the simulator received, and what its callee did with it."""

    sid: str
    to: str
    from_: str
    body: str
    opened: list[tuple[str, int]] = field(default_factory=list)  # (link, HTTP status; 0 unreachable)
    done: threading.Event = field(default_factory=threading.Event)

    def summary(self) -> str:
        """What the simulator prints: the text and what the callee did with its link."""
        opened = "; ".join(f"opened {link} → {status}" for link, status in self.opened) or "not opened"
        return f"=== text {self.sid} → {self.to}: {self.body}\n    {opened}"


class TextDesk:
    """Receives texts for scripted callees (the pickup of their latest call decides what they do)."""

    def __init__(
        self, *, pickup_for: Callable[[str], Pickup], on_done: Callable[[SimText], None] | None = None
    ) -> None:
        self._pickup_for = pickup_for
        self._on_done = on_done
        self.texts: dict[str, SimText] = {}
        self._lock = threading.Lock()
        self._tasks: set[asyncio.Task[None]] = set()

    def texts_to(self, number: str) -> list[SimText]:
        with self._lock:
            return [t for t in self.texts.values() if t.to == number]

    def receive(self, *, to: str, from_: str, body: str) -> SimText:
        """Record the text; a callee who opens links does so in the background."""
        text = SimText(sid="SM" + secrets.token_hex(16), to=to, from_=from_, body=body)
        with self._lock:
            self.texts[text.sid] = text
        pickup = self._pickup_for(to)
        if pickup.on_text == "open_link" and _LINK.search(body):
            task = asyncio.create_task(self._open(text, delay_s=pickup.open_after_s))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        else:
            self._finish(text)
        return text

    def _finish(self, text: SimText) -> None:
        text.done.set()
        if self._on_done is not None:
            self._on_done(text)

    async def _open(self, text: SimText, *, delay_s: float) -> None:
        await asyncio.sleep(delay_s)
        link = _LINK.search(text.body)
        assert link is not None
        try:
            async with httpx.AsyncClient(timeout=15) as http:
                response = await http.get(link.group(0))
            text.opened.append((link.group(0), response.status_code))
        except httpx.HTTPError as exc:
            logger.warning("callee %s could not open %s: %r", text.to, link.group(0), exc)
            text.opened.append((link.group(0), 0))
        finally:
            self._finish(text)
