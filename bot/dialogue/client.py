"""Adapter for the Rasa server's HTTP interface (REST channel and status API), over loopback."""

from __future__ import annotations

from typing import Any, Protocol

import httpx

from bot.errors import DialogueUnavailable


class DialogueEngine(Protocol):
    """What the gateway needs from Rasa: one server (`RasaClient`) or several (`RasaReplicas`)."""

    async def send(self, sender_id: str, text: str, metadata: dict[str, Any]) -> list[dict[str, Any]]: ...

    async def status(self) -> dict[str, Any]: ...

    async def aclose(self) -> None: ...


class RasaClient:
    """Sends user messages to Rasa's REST channel; all Rasa HTTP goes through here."""

    def __init__(
        self,
        base_url: str,
        *,
        token: str | None,
        timeout_s: float,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._token = token
        self._http = httpx.AsyncClient(
            base_url=base_url,
            timeout=httpx.Timeout(timeout_s, connect=2.0),
            transport=transport,
        )

    async def send(self, sender_id: str, text: str, metadata: dict[str, Any]) -> list[dict[str, Any]]:
        """One user turn; returns Rasa's bot messages as sent by its REST channel."""
        payload = {"sender": sender_id, "message": text, "metadata": metadata}
        try:
            response = await self._http.post("/webhooks/rest/webhook", json=payload)
            response.raise_for_status()
            body = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise DialogueUnavailable(f"Rasa did not answer: {exc!r}") from exc
        if not isinstance(body, list):
            raise DialogueUnavailable(f"unexpected Rasa response: {body!r:.200}")
        return body

    async def status(self) -> dict[str, Any]:
        """Rasa's /status (needs the API token): which model is loaded."""
        try:
            response = await self._http.get("/status", params={"token": self._token}, timeout=2.0)
            response.raise_for_status()
            body: dict[str, Any] = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise DialogueUnavailable(f"Rasa status unavailable: {exc!r}") from exc
        return body

    async def aclose(self) -> None:
        await self._http.aclose()
