"""`advisor`: the one command surface (run, train, shell, nlu eval, and the domain sub-commands).

Start-up time matters for a command people type: this module imports only typer. Domain sub-commands
are registered lazily (bot/cli/lazy.py) and every heavy import sits inside the command that needs it,
so `advisor --help` costs about as much as importing typer (measured by `make bench`).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from bot.cli.lazy import LazyGroup

if TYPE_CHECKING:
    from bot.runtime.supervisor import RasaSupervisor
    from bot.settings import Settings

# Plain (not rich) help: rich's rendering costs more import time than the rest of --help together. No
# --install-completion options: typer checks them through pydantic, whose import alone would double the
# start-up of every sub-command's --help.
app = typer.Typer(
    cls=LazyGroup,
    help="Wealth advisor / 智能理财助手",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    add_completion=False,
)
nlu_app = typer.Typer(help="NLU evaluation.", no_args_is_help=True, rich_markup_mode=None)
app.add_typer(nlu_app, name="nlu")


def _fail(exc: Exception) -> typer.Exit:
    typer.secho(f"error: {exc}", fg=typer.colors.RED, err=True)
    return typer.Exit(code=2)


def _with_run_secrets(settings: Settings) -> Settings:
    """One Rasa API token and one action secret per run unless configured, shared by Rasa and the app."""
    import secrets

    from pydantic import SecretStr

    update = {
        key: SecretStr(secrets.token_hex(16))
        for key in ("auth_token", "action_secret")
        if not getattr(settings.rasa, key)
    }
    return settings.model_copy(update={"rasa": settings.rasa.model_copy(update=update)}) if update else settings


def _announce_when_ready(settings: Settings, supervisor: RasaSupervisor) -> None:
    import time

    import httpx

    from bot.errors import AdvisorError

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


def worker_env(settings: Settings) -> dict[str, str]:
    """What app worker processes must share with this one, as ADVISOR_* variables they read at start-up:
    the run's Rasa token and action secret, the port, and a console session secret (a random one per
    process would make a cookie from one worker invalid in the next)."""
    import secrets

    console = settings.console.session_secret
    env = {
        "ADVISOR_APP__PORT": str(settings.app.port),
        "ADVISOR_CONSOLE__SESSION_SECRET": console.get_secret_value() if console else secrets.token_hex(32),
    }
    for key in ("auth_token", "action_secret"):
        secret = getattr(settings.rasa, key)
        if secret is not None:
            env[f"ADVISOR_RASA__{key.upper()}"] = secret.get_secret_value()
    return env


@app.command()
def run(
    port: Annotated[int | None, typer.Option(help="App port (default from config.yml).")] = None,
    workers: Annotated[
        int, typer.Option(min=1, max=64, help="App processes sharing the port (best on PostgreSQL: database.url).")
    ] = 1,
) -> None:
    """Train if needed, ingest the demo content if the store is empty, start Rasa and the app.

    With rasa.replicas (and its stores) and --workers, the whole scale-out shape on one machine."""
    import os
    import sys
    import threading

    import uvicorn

    from bot.app import create_app
    from bot.cli.startup import ingest_if_empty, summary
    from bot.errors import AdvisorError
    from bot.observability.logging import install_logging, log_file
    from bot.runtime import rasa_process
    from bot.runtime.supervisor import RasaSupervisor
    from bot.settings import get_settings

    try:
        settings = _with_run_secrets(get_settings())
        if port:
            settings = settings.model_copy(update={"app": settings.app.model_copy(update={"port": port})})
        model: Path | None = None
        if not settings.rasa.urls:  # Rasa servers elsewhere (rasa.urls) bring their own model
            model, trained = rasa_process.train(settings)
            typer.echo(f"Rasa model: {model.name} ({'trained now' if trained else 'up to date'})")
        ingested = ingest_if_empty(settings)
        action_url = f"http://127.0.0.1:{settings.app.port}/webhook"
        # rasa.replicas local Rasa processes (ports rasa.port ...), none when rasa.urls names servers elsewhere
        replicas = 0 if settings.rasa.urls else settings.rasa.replicas
        supervisors = [
            RasaSupervisor.from_settings(settings, model=model, action_url=action_url, replica=n)
            for n in range(replicas)
            if model is not None
        ]
    except AdvisorError as exc:
        raise _fail(exc) from exc
    logs = log_file(settings.app.log_to, settings.logs_dir, interactive=sys.stderr.isatty())
    typer.echo(summary(settings, model=model, ingested=ingested, logs=logs))
    install_logging(settings.app.log_level, file=logs)  # masked JSON lines from the first one (uvicorn's included)
    for supervisor in supervisors:
        supervisor.start()  # this process reaps and restarts its Rasa children whenever they exit
    typer.echo(f"Starting {len(supervisors) or 'no'} Rasa process(es) and the app; Rasa takes ~45 s to load ...")
    if supervisors:
        threading.Thread(target=_announce_when_ready, args=(settings, supervisors[0]), daemon=True).start()
    serve = {"host": settings.app.host, "port": settings.app.port, "log_level": settings.app.log_level.lower()}
    try:
        if workers > 1:  # each worker builds its own app from the environment, with this run's secrets
            os.environ.update(worker_env(settings))
            uvicorn.run("bot.app:create_app", factory=True, workers=workers, log_config=None, **serve)  # type: ignore[arg-type]
        else:  # one Rasa child: /healthz and /readyz follow its restarts; several: the replicas' checks do
            front = create_app(settings, rasa_supervisor=supervisors[0] if len(supervisors) == 1 else None)
            uvicorn.run(front, log_config=None, **serve)  # type: ignore[arg-type]
    finally:
        for supervisor in supervisors:
            supervisor.stop()


@app.command()
def train(
    force: Annotated[bool, typer.Option(help="Retrain even if the data are unchanged.")] = False,
) -> None:
    """Train the Rasa model; skipped when its data are unchanged."""
    from bot.errors import AdvisorError
    from bot.runtime import rasa_process
    from bot.settings import get_settings

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
    import secrets

    import httpx

    from bot.dialogue.inbound import gateway_texts, looks_like_command
    from bot.settings import get_settings

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
                    typer.secho(f"  《{cite['title']}》", dim=True)
            if response.status_code != 200:
                typer.secho(body.get("message") or json.dumps(body, ensure_ascii=False), fg="yellow")


@nlu_app.command("eval")
def nlu_evaluate(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="A Rasa-format NLU test file.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Rasa's NLU evaluation of FILE against the current model: accuracy and per-intent P/R/F1."""
    from bot.cli.progress import Ticker
    from bot.errors import AdvisorError
    from bot.runtime import nlu_eval, rasa_process
    from bot.settings import get_settings

    settings = get_settings()
    try:
        with Ticker("Checking the Rasa model (trains only if its data changed)"):
            model, _ = rasa_process.train(settings)
        with Ticker(f"Evaluating {nlu_eval.count_examples(file)} examples with rasa test nlu (loads TensorFlow)"):
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
    from bot.settings import get_settings

    settings = get_settings()
    url = settings.tracker_store_url
    if url is None:
        raise _fail(Exception(f"no tracker store at {settings.tracker_store_path} yet; run the bot first"))
    try:
        start = datetime.fromisoformat(since) if since else None
    except ValueError as exc:
        raise _fail(Exception(f"--since: {exc}")) from exc
    if start is not None and start.tzinfo is None:
        start = start.replace(tzinfo=UTC)
    engine = analytics.tracker_engine(url)
    try:
        rows = analytics.turns(engine, since=start, channel=channel, intent=intent, include_text=with_text, limit=limit)
    finally:
        engine.dispose()
    for turn in rows:
        typer.echo(json.dumps(turn.as_json(), ensure_ascii=False))


def main() -> None:
    """Console-script entry point."""
    app()
