"""A fake of Rasa's REST channel and /status, served over loopback, for tests of the app alone."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, HTTPException, Request


def fake_rasa_app(token: str = "t") -> FastAPI:
    """Echoes a bilingual greeting and records every request it gets (app.state.received)."""
    app = FastAPI()
    app.state.received = []

    @app.post("/webhooks/rest/webhook")
    async def rest(request: Request) -> list[dict[str, Any]]:
        body = await request.json()
        app.state.received.append(body)
        return [{"recipient_id": body["sender"], "custom": {"zh": "您好！", "en": "Hello!"}}]

    @app.get("/status")
    async def status(token_: str | None = None, request: Request = None) -> dict[str, Any]:  # type: ignore[assignment]
        if request.query_params.get("token") != token:
            raise HTTPException(401)
        return {"model_file": "/x/models/advisor-abc.tar.gz", "num_active_training_jobs": 0}

    return app
