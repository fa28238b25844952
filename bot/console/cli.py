"""`advisor console hash-password | new-key`: make the secrets the console reads from the environment."""

from __future__ import annotations

import re
import secrets
from typing import Annotated

import typer

_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,63}")
_ADVISOR_ID = re.compile(r"[\w.:@-]{1,128}")
console_app = typer.Typer(
    help="Operations console (/console): users and API keys.", no_args_is_help=True, rich_markup_mode=None
)


@console_app.command("hash-password")
def hash_password_command(
    username: Annotated[str, typer.Argument(help="The login name (case-insensitive).")],
    role: Annotated[
        str, typer.Option(help="viewer (read only), admin (changes, audit texts) or advisor (training only).")
    ] = "viewer",
    advisor_id: Annotated[
        str | None, typer.Option(help="advisor role: the advisor id (工号) their training sessions belong to.")
    ] = None,
) -> None:
    """Prompt for a password and print the environment lines that create the user."""
    if role not in {"viewer", "admin", "advisor"}:
        raise typer.BadParameter("use viewer, admin or advisor", param_hint="--role")
    if role == "advisor" and not (advisor_id and _ADVISOR_ID.fullmatch(advisor_id)):
        raise typer.BadParameter("advisors need their advisor id, e.g. --advisor-id a1024", param_hint="--advisor-id")
    if not _NAME.fullmatch(username):
        raise typer.BadParameter(
            "ASCII letters, digits and '_' only (it becomes part of an env name)", param_hint="USERNAME"
        )
    password = typer.prompt("Password / 密码", hide_input=True, confirmation_prompt=True)
    if len(password) < 10:
        typer.secho("error: use at least 10 characters / 密码至少 10 位", fg=typer.colors.RED, err=True)
        raise typer.Exit(code=2)
    from bot.console.auth import hash_password  # (imports the settings models: only when needed)

    name = username.upper()
    typer.echo(f"ADVISOR_CONSOLE__USERS__{name}__PASSWORD_HASH='{hash_password(password)}'")
    typer.echo(f"ADVISOR_CONSOLE__USERS__{name}__ROLE={role}")
    if advisor_id:
        typer.echo(f"ADVISOR_CONSOLE__USERS__{name}__ADVISOR_ID={advisor_id}")


@console_app.command("new-key")
def new_key(
    name: Annotated[str, typer.Argument(help="What the key is for, e.g. grafana.")],
    role: Annotated[str, typer.Option(help="viewer or admin.")] = "viewer",
) -> None:
    """Print a fresh random API key as environment lines (send it as the X-API-Key header)."""
    if not _NAME.fullmatch(name):
        raise typer.BadParameter(
            "ASCII letters, digits and '_' only (it becomes part of an env name)", param_hint="NAME"
        )
    if role not in {"viewer", "admin"}:
        raise typer.BadParameter("use viewer or admin", param_hint="--role")
    typer.echo(f"ADVISOR_CONSOLE__API_KEYS__{name.upper()}__KEY={secrets.token_urlsafe(32)}")
    typer.echo(f"ADVISOR_CONSOLE__API_KEYS__{name.upper()}__ROLE={role}")
