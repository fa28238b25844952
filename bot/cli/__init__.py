"""`advisor`: the one command surface (run, train, shell, nlu eval, and the domain sub-commands)."""

from __future__ import annotations

import json
import secrets
import threading
import time
from pathlib import Path
from typing import Annotated

import httpx
import typer
from pydantic import SecretStr

from bot.campaigns.cli import campaign_app
from bot.compliance.cli import compliance_app
from bot.console.cli import console_app
from bot.dialogue.inbound import gateway_texts, looks_like_command
from bot.errors import AdvisorError
from bot.knowledge.cli import ask, kb_app
from bot.observability.logging import install_logging
from bot.roleplay.cli import roleplay_app
from bot.runtime import nlu_eval, rasa_process
from bot.runtime.supervisor import RasaSupervisor
from bot.settings import Settings, get_settings
from telephony.cli import telephony_app

app = typer.Typer(help="Wealth advisor / 智能理财助手", no_args_is_help=True, pretty_exceptions_enable=False)
nlu_app = typer.Typer(help="NLU evaluation.", no_args_is_help=True)
app.add_typer(nlu_app, name="nlu")
app.add_typer(kb_app, name="kb")
app.add_typer(compliance_app, name="compliance")
app.add_typer(roleplay_app, name="roleplay")
app.add_typer(campaign_app, name="campaign")
app.add_typer(telephony_app, name="telephony")
app.add_typer(console_app, name="console")
app.command("ask")(ask)


def _fail(exc: Exception) -> typer.Exit:
    typer.secho(f"error: {exc}", fg=typer.colors.RED, err=True)
    return typer.Exit(code=2)


def _with_run_secrets(settings: Settings) -> Settings:
    """One Rasa API token and one action secret per run unless configured, shared by Rasa and the app."""
    update = {
        key: SecretStr(secrets.token_hex(16))
        for key in ("auth_token", "action_secret")
        if not getattr(settings.rasa, key)
    }
    return settings.model_copy(update={"rasa": settings.rasa.model_copy(update=update)}) if update else settings


def _ingest_if_empty(settings: Settings) -> None:
    from bot.knowledge.service import KnowledgeService

    service = KnowledgeService.from_settings(settings)
    if service.is_empty():
        typer.echo(f"Ingesting approved content from {settings.knowledge.source_dir} ...")
        report = service.ingest(settings.knowledge.source_dir)
        typer.echo(report.summary())


def _announce_when_ready(settings: Settings, supervisor: RasaSupervisor) -> None:
    url = f"http://{settings.app.host}:{settings.app.port}"
    try:
        status = supervisor.wait_until_ready(timeout=settings.rasa.startup_timeout_s)
    except AdvisorError as exc:
        typer.secho(f"Rasa did not start: {exc} (see {supervisor.log_path})", fg="red", err=True)
        return
    for _ in range(100):
        try:
            if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.2)
    model = Path(str(status.get("model_file"))).name
    typer.secho(f"\nReady / 已就绪: open {url.replace('127.0.0.1', 'localhost')}  (model {model})", fg="green")
    typer.echo("Press Ctrl-C to stop / 按 Ctrl-C 停止.")


@app.command()
def run(
    port: Annotated[int | None, typer.Option(help="App port (default from config.yml).")] = None,
) -> None:
    """Train if needed, ingest the demo content if the store is empty, start Rasa and the app."""
    import uvicorn

    from bot.app import create_app

    try:
        settings = _with_run_secrets(get_settings())
        if port:
            settings = settings.model_copy(update={"app": settings.app.model_copy(update={"port": port})})
        model, trained = rasa_process.train(settings)
        typer.echo(f"Rasa model: {model.name} ({'trained now' if trained else 'up to date'})")
        _ingest_if_empty(settings)
        action_url = f"http://127.0.0.1:{settings.app.port}/webhook"
        supervisor = RasaSupervisor.from_settings(settings, model=model, action_url=action_url)
    except AdvisorError as exc:
        raise _fail(exc) from exc
    install_logging(settings.app.log_level)  # masked JSON lines from the first one (uvicorn's included)
    supervisor.start()  # this process reaps and restarts Rasa whenever it exits
    typer.echo("Starting Rasa and the app; Rasa takes ~45 s to load ...")
    threading.Thread(target=_announce_when_ready, args=(settings, supervisor), daemon=True).start()
    try:
        uvicorn.run(
            create_app(settings, rasa_supervisor=supervisor),
            host=settings.app.host,
            port=settings.app.port,
            log_level=settings.app.log_level.lower(),
            log_config=None,
        )
    finally:
        supervisor.stop()


@app.command()
def train(
    force: Annotated[bool, typer.Option(help="Retrain even if the data are unchanged.")] = False,
) -> None:
    """Train the Rasa model; skipped when its data are unchanged."""
    try:
        model, trained = rasa_process.train(get_settings(), force=force)
    except AdvisorError as exc:
        raise _fail(exc) from exc
    typer.echo(f"{model} ({'trained' if trained else 'up to date, skipped'})")


SHELL_EXIT = ":q"  # cannot collide with an intent: Rasa's intent syntax starts with "/"


@app.command()
def shell(
    url: Annotated[str | None, typer.Option(help="A running app (default from config.yml).")] = None,
    sender: Annotated[str, typer.Option(help="Conversation id.")] = "",
) -> None:
    """Chat in the terminal through the running app's gateway (start it with `make run`); `:q` or Ctrl-D quits."""
    settings = get_settings()
    base = url or f"http://{settings.app.host}:{settings.app.port}"
    sender_id = sender or f"shell-{secrets.token_hex(4)}"
    typer.echo(f"输入消息后回车，输入 {SHELL_EXIT} 或按 Ctrl-D 退出 / Type a message; {SHELL_EXIT} or Ctrl-D quits.")
    with httpx.Client(base_url=base, timeout=30) as client:
        while True:
            try:
                text = input("> ").strip()
            except EOFError:
                return
            if text == SHELL_EXIT:
                return
            if not text:
                continue
            if looks_like_command(text):  # never sent: "/quit" would reach Rasa as an intent
                typer.secho(f"{gateway_texts().command_hint} ({SHELL_EXIT}: 退出 / quit)", fg="yellow")
                continue
            try:
                response = client.post("/api/chat", json={"sender_id": sender_id, "message": text})
            except httpx.HTTPError as exc:
                raise _fail(Exception(f"cannot reach {base} ({exc}); is `make run` running?")) from exc
            body = response.json()
            for message in body.get("messages", []):
                typer.secho(message["text"], fg="cyan")
                for cite in message.get("citations", []):
                    typer.secho(f"  [{cite['id']}] {cite['title']}", dim=True)
            if response.status_code != 200:
                typer.secho(body.get("message") or json.dumps(body, ensure_ascii=False), fg="yellow")


@nlu_app.command("eval")
def nlu_evaluate(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="A Rasa-format NLU test file.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Rasa's NLU evaluation of FILE against the current model: accuracy and per-intent P/R/F1."""
    settings = get_settings()
    try:
        model, _ = rasa_process.train(settings)
        result = nlu_eval.evaluate(settings, model=model, test_file=file)
    except AdvisorError as exc:
        raise _fail(exc) from exc
    if as_json:
        typer.echo(json.dumps(result, ensure_ascii=False, indent=2))
        return
    typer.echo(f"intent accuracy: {result['accuracy']:.3f}")
    for name, scores in sorted(result["intents"].items(), key=lambda kv: kv[1]["f1"]):
        typer.echo(f"  {name:24s} p={scores['precision']:.2f} r={scores['recall']:.2f} f1={scores['f1']:.2f}")


@app.command()
def turns(
    since: Annotated[str | None, typer.Option(help="ISO date or time, e.g. 2026-12-01.")] = None,
    channel: Annotated[str | None, typer.Option(help="web, wecom, voice ...")] = None,
    intent: Annotated[str | None, typer.Option()] = None,
    limit: Annotated[int, typer.Option(min=1)] = 1000,
    with_text: Annotated[bool, typer.Option("--with-text", help="Include the client's words.")] = False,
) -> None:
    """Turn analytics from Rasa's tracker store, as JSON lines: intent, confidence, channel, actions."""
    from datetime import UTC, datetime

    from bot.dialogue import analytics

    settings = get_settings()
    if not settings.tracker_store_path.exists():
        raise _fail(Exception(f"no tracker store at {settings.tracker_store_path} yet; run the bot first"))
    try:
        start = datetime.fromisoformat(since) if since else None
    except ValueError as exc:
        raise _fail(Exception(f"--since: {exc}")) from exc
    if start is not None and start.tzinfo is None:
        start = start.replace(tzinfo=UTC)
    engine = analytics.tracker_engine(f"sqlite:///{settings.tracker_store_path}")
    try:
        rows = analytics.turns(engine, since=start, channel=channel, intent=intent, include_text=with_text, limit=limit)
    finally:
        engine.dispose()
    for turn in rows:
        typer.echo(json.dumps(turn.as_json(), ensure_ascii=False))


def main() -> None:
    """Console-script entry point."""
    app()
