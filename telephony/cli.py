"""`advisor telephony`: the Twilio simulator for demos, and a single test call through the configured provider."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from bot.errors import AdvisorError, ConfigError

if TYPE_CHECKING:
    from bot.settings import Settings

telephony_app = typer.Typer(help="Outbound voice (Twilio) / 外呼语音。", no_args_is_help=True, rich_markup_mode=None)
DEMO_SCENARIO = Path(__file__).parent / "simulator" / "demo.yml"
SIM_ACCOUNT = "AC" + "5" * 32  # used when telephony.account_sid is unset (the simulator only)


def _fail(exc: Exception) -> typer.Exit:
    typer.secho(f"error: {exc}", fg=typer.colors.RED, err=True)
    return typer.Exit(code=2)


def _token(settings: Settings) -> str:
    if settings.telephony.auth_token is None:
        raise ConfigError("set ADVISOR_TELEPHONY__AUTH_TOKEN (any value for the simulator; it signs the webhooks)")
    return settings.telephony.auth_token.get_secret_value()


@telephony_app.command()
def simulate(
    scenario: Annotated[Path, typer.Option(exists=True, dir_okay=False, help="Callees (YAML).")] = DEMO_SCENARIO,
    port: Annotated[int, typer.Option(help="Port of the simulated Twilio REST API (loopback).")] = 8010,
) -> None:
    """Run a local Twilio stand-in: it accepts calls and texts and plays scripted callees through the webhooks."""
    import uvicorn

    from bot.settings import get_settings
    from telephony.simulator.scenario import Scenario
    from telephony.simulator.texts import SimText
    from telephony.simulator.twilio_sim import SimCall, TwilioSimulator

    try:
        settings = get_settings()
        token = _token(settings)
        plan = Scenario.load(scenario)
    except AdvisorError as exc:
        raise _fail(exc) from exc

    def show(call: SimCall) -> None:
        typer.secho(call.transcript_text(), fg="cyan")
        statuses = ", ".join(f"{status}:{code}" for status, code in call.statuses)
        typer.secho(f"    status callbacks: {statuses}", dim=True)

    def show_text(text: SimText) -> None:
        typer.secho(text.summary(), fg="magenta")

    account = settings.telephony.account_sid or SIM_ACCOUNT
    sim = TwilioSimulator(account_sid=account, auth_token=token, scenario=plan, on_finished=show, on_text=show_text)
    base = f"http://127.0.0.1:{port}"
    typer.echo(f"Twilio simulator on {base} (account {account}); scenario {scenario}")
    typer.echo(f"Point the app at it: ADVISOR_TELEPHONY__API_BASE_URL={base} ADVISOR_TELEPHONY__ACCOUNT_SID={account}")
    typer.echo("and the same ADVISOR_TELEPHONY__AUTH_TOKEN. Ctrl-C stops / 按 Ctrl-C 停止.")
    uvicorn.run(sim.app, host="127.0.0.1", port=port, log_level="warning")


@telephony_app.command()
def call(
    number: Annotated[str, typer.Argument(help="E.164 number to call.")],
    attempt: Annotated[int, typer.Option(help="The campaign attempt id the webhooks will serve.")],
) -> None:
    """Place one call through the configured provider (Twilio or the simulator); prints the call sid."""
    from bot.campaigns.provider import CallRequest
    from bot.settings import get_settings
    from telephony.factory import build_provider

    settings = get_settings()
    base = settings.voice_base_url
    try:
        provider = build_provider(settings)
        request = CallRequest(
            to=number,
            answer_url=f"{base}/voice/answer?attempt={attempt}",
            status_url=f"{base}/voice/status?attempt={attempt}",
            ring_timeout_s=settings.telephony.ring_timeout_s,
            time_limit_s=settings.telephony.time_limit_s,
        )
        placed = asyncio.run(provider.place_call(request))
    except AdvisorError as exc:
        raise _fail(exc) from exc
    typer.echo(f"{placed.call_sid} {placed.status}")
