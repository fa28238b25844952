"""A scripted stand-in for Rasa's REST channel (served over loopback): replies by what the caller said."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import FastAPI, Request

OPENING = [
    {
        "custom": {
            "kind": "ai_disclosure",
            "zh": "您好，我是示例银行的AI智能理财助手（人工智能），不是真人。",
            "en": "Hello, I'm an AI assistant.",
        }
    },
    {
        "custom": {
            "kind": "call_opening",
            "zh": "本次通话将被录音。您有兴趣了解一下吗？",
            "en": "This call is recorded.",
        }
    },
]
# Keyword in the caller's words → what Rasa would answer.
SCRIPT: dict[str, list[dict[str, Any]]] = {
    "不要再": [{"custom": {"kind": "opt_out", "zh": "好的，已为您登记，今后不再打扰。再见。", "en": "Understood."}}],
    "没兴趣": [{"custom": {"kind": "end_call", "zh": "好的，打扰您了。", "en": "No problem."}}],
    "再见": [{"custom": {"kind": "end_call", "zh": "感谢您的来访，再见！", "en": "Goodbye!"}}],
    "在忙": [{"custom": {"kind": "callback", "zh": "好的，我们会再联系您。", "en": "We'll call you back."}}],
    # The dialogue booked a time (the one its lead carries): the call must record that very time.
    "后天": [
        {
            "custom": {
                "kind": "callback",
                "zh": "好的，我们会在12月03日 11:30再联系您。",
                "en": "We'll call on Dec 03 at 11:30.",
                "callback_at": "2026-12-03T11:30:00+08:00",
            }
        }
    ],
    "转人工": [{"custom": {"kind": "handoff", "zh": "好的，已为您登记，理财经理会联系您。", "en": "Done."}}],
    "天天宝": [
        {
            "custom": {
                "zh": "**天天宝**（TTB001）每日可赎回 [TTB001]，详见 https://bank.example/ttb 。"
                "理财非存款、产品有风险、投资须谨慎。",
                "en": "TTB001 can be redeemed daily.",
                "citations": [{"id": "TTB001", "title": "天天宝"}],
            }
        }
    ],
}


def fake_dialogue_app(*, slow_s: float = 2.0) -> FastAPI:
    """Records every request (app.state.received); "慢" makes it answer after `slow_s` seconds."""
    app = FastAPI()
    app.state.received = []

    @app.post("/webhooks/rest/webhook")
    async def rest(request: Request) -> list[dict[str, Any]]:
        body = await request.json()
        app.state.received.append(body)
        text = str(body["message"])
        if text == "/call_start":
            return OPENING
        if "慢" in text:
            await asyncio.sleep(slow_s)
        for keyword, reply in SCRIPT.items():
            if keyword in text:
                return reply
        return [{"custom": {"zh": "好的，请问还想了解什么？", "en": "OK, anything else?"}}]

    return app
