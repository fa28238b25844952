"""`advisor shell`: its own exit command (`:q`, or Ctrl-D), and it never sends Rasa's intent syntax."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from typer.testing import CliRunner

from bot.cli import app as cli
from tests.support.servers import serve


def _recording_app() -> FastAPI:
    app = FastAPI()
    app.state.received = []

    @app.post("/api/chat")
    async def chat(request: Request) -> dict[str, Any]:
        body = await request.json()
        app.state.received.append(body["message"])
        return {"messages": [{"text": "您好！", "citations": []}]}

    return app


def test_colon_q_quits_and_slash_lines_are_never_sent() -> None:
    app = _recording_app()
    with serve(app) as url:
        done = CliRunner().invoke(cli, ["shell", "--url", url], input="你好\n/quit\n／opt_out\n:q\n还在吗\n")
    assert done.exit_code == 0, done.output
    assert app.state.received == ["你好"]  # "/quit" is not an exit here, and never reaches the dialogue
    assert ":q" in done.output


def test_ctrl_d_quits() -> None:
    app = _recording_app()
    with serve(app) as url:
        done = CliRunner().invoke(cli, ["shell", "--url", url], input="你好\n")
    assert done.exit_code == 0 and app.state.received == ["你好"]
