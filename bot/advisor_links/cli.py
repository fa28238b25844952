"""`advisor wecom`: the advisors' WeCom links (usage, cleanup, reassignment), the link offer, the simulator, and
the one-shot import of the channel's old state.

    advisor wecom simulate [--port 8020] [--app URL]     a local WeCom for demos (links, adds, welcomes)
    advisor wecom links [--cleanup] [--json]             links counting against the quota; delete expired ones
    advisor wecom reassign OLD NEW                       point an advisor's live links at another advisor
    advisor wecom offer CAMPAIGN --list                  clients a person answered, and whether they were offered
    advisor wecom offer CAMPAIGN --client ID --yes|--no [--words TEXT]
                                                         record a client's answer to the link offer (a yes texts it)
    advisor wecom import-state [OLD]                     copy the WeCom state kept in wecom.db (before it moved
                                                         into the app database) once: its kf sync cursor, dedup keys…

`offer` is the service the call bot uses when a client answers "shall I text you your advisor's WeCom
link?"; by hand it records an answer the client gave staff (on the phone, at a branch). Record only the
client's own answer: a yes is their consent to the text.
Exit codes: 0 done, 2 bad input or settings (the message says what to fix).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Annotated, TypeVar

import typer

if TYPE_CHECKING:
    from bot.advisor_links.links import AdvisorLinks
    from bot.advisor_links.offers import LinkOffers
    from bot.settings import Settings

T = TypeVar("T")
wecom_app = typer.Typer(
    help="WeCom (企业微信): advisors' links, the link offer, a local simulator.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


def get_settings() -> Settings:
    from bot.settings import get_settings as settings

    return settings()


def _fail(message: str) -> typer.Exit:
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    return typer.Exit(code=2)


def _run(work: Callable[[AdvisorLinks, LinkOffers], Awaitable[T]]) -> T:
    """Build the links and offers from settings over a WeCom client of our own, run `work`, close."""
    from bot.advisor_links.service import link_services
    from bot.channels.wecom.client import WeComClient
    from bot.channels.wecom.config import load_wecom_config
    from bot.db import make_engine, migrate, session_factory
    from bot.errors import AdvisorError, ConfigError
    from bot.messaging.factory import build_text_provider

    settings = get_settings()

    async def main() -> T:
        services = await link_services(settings, sessions=sessions)
        if services is None:
            raise ConfigError(
                "WeCom links are off: set channels.wecom.enabled and ADVISOR_CHANNELS__WECOM__STATE_KEY (.env.example)"
            )
        config = load_wecom_config(
            settings.channels.wecom, data_dir=settings.data_dir, database_url=settings.database_url,
            hotline=settings.app.hotline, max_message_chars=settings.app.max_message_chars,
        )  # fmt: skip
        secret = config.contact_secret or config.app_secret
        if secret is None:
            raise ConfigError("links need ADVISOR_CHANNELS__WECOM__CONTACT_SECRET or __APP_SECRET")
        client = WeComClient(
            base_url=config.api_base_url, corp_id=config.corp_id, secrets={"contact": secret},
            timeout_s=config.timeout_s, retry_attempts=config.retry_attempts, retry_backoff_s=config.retry_backoff_s,
        )  # fmt: skip
        try:
            offers = services.offers(api=client, provider=build_text_provider(settings))
            assert offers is not None
            return await work(offers.links, offers)
        finally:
            await client.aclose()

    try:
        migrate(settings.database_url)
        sessions = session_factory(make_engine(settings.database_url))
        return asyncio.run(main())
    except AdvisorError as exc:
        raise _fail(str(exc)) from exc


@wecom_app.command()
def links(
    cleanup: Annotated[bool, typer.Option("--cleanup", help="Delete expired links in WeCom first.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Links counting against this app's share of WeCom's 「联系我」 quota (channels.wecom.contact_way_quota)."""

    async def work(links_: AdvisorLinks, _: LinkOffers) -> tuple[int, str]:
        deleted = await links_.cleanup() if cleanup else 0
        return deleted, (await links_.usage()).model_dump_json()

    deleted, usage = _run(work)
    if as_json:
        typer.echo(usage)
        return
    data = json.loads(usage)
    if cleanup:
        typer.echo(f"已删除过期链接 / expired links deleted: {deleted}")
    typer.echo(f"使用中 live {data['live']} / 配额 quota {data['quota']} · 已过期待清理 expired {data['expired']}"
               f" · {', '.join(f'{k} {v}' for k, v in sorted(data['by_status'].items())) or '-'}")  # fmt: skip


@wecom_app.command()
def reassign(
    from_advisor: Annotated[str, typer.Argument(metavar="OLD", help="The advisor's WeCom userid.")],
    to_advisor: Annotated[str, typer.Argument(metavar="NEW", help="The advisor who takes their links over.")],
) -> None:
    """Point every live link of one advisor at another (update_contact_way), e.g. when one leaves the bank."""

    async def work(links_: AdvisorLinks, _: LinkOffers) -> int:
        return await links_.reassign(from_advisor=from_advisor, to_advisor=to_advisor)

    typer.echo(f"{_run(work)} link(s) now add {to_advisor}")


@wecom_app.command()
def offer(
    campaign_id: Annotated[int, typer.Argument(metavar="CAMPAIGN", help="Campaign id (advisor campaign list).")],
    client: Annotated[list[str] | None, typer.Option(help="Client id (repeat for several).")] = None,
    accepted: Annotated[bool | None, typer.Option("--yes/--no", help="The client's answer.")] = None,
    words: Annotated[str, typer.Option(help="What the client said, kept with the consent.")] = "",
    list_: Annotated[bool, typer.Option("--list", help="List the clients a person answered.")] = False,
    ids: Annotated[bool, typer.Option("--ids", help="With --list: only the ids of those not offered yet.")] = False,
) -> None:
    """Record a client's answer to the offer of their advisor's WeCom link; a yes texts the link (once)."""
    if list_:

        async def listing(_: AdvisorLinks, offers: LinkOffers) -> list[str]:
            calls = await offers.answered(campaign_id)
            if ids:
                return [c.client_id for c in calls if not c.offered]
            return [f"{c.client_id} attempt {c.attempt_id} {'offered' if c.offered else 'not offered yet'}"
                    for c in calls]  # fmt: skip

        typer.echo("\n".join(_run(listing)))
        return
    if not client or accepted is None:
        raise _fail("name the client(s) with --client and their answer with --yes or --no (or use --list)")

    async def answer(_: AdvisorLinks, offers: LinkOffers) -> list[str]:
        answered = {c.client_id: (c.attempt_id, c.call_sid) for c in await offers.answered(campaign_id)}
        lines = []
        for client_id in client:
            if client_id not in answered:
                lines.append(f"{client_id}: no answered call in campaign {campaign_id}")
                continue
            attempt_id, call_sid = answered[client_id]
            result = await offers.answer_on_call(attempt_id=attempt_id, call_sid=call_sid, accepted=accepted,
                                                 words=words)  # fmt: skip
            lines.append(f"{client_id}: {result.status}" + (f" ({result.reason})" if result.reason else ""))
        return lines

    typer.echo("\n".join(_run(answer)))


@wecom_app.command("import-state")
def import_state(
    source: Annotated[
        str | None,
        typer.Argument(
            metavar="OLD",
            help="The old WeCom database: a SQLite file or a URL (default channels.wecom.database_url, "
            "else data_dir/wecom.db).",
        ),
    ] = None,
) -> None:
    """Copy WeCom's state from its old database into the app database, once (stop the app first)."""
    from bot.channels.wecom.config import LEGACY_STATE_FILE
    from bot.channels.wecom.legacy import import_state as copy_state
    from bot.channels.wecom.legacy import source_url
    from bot.db import migrate
    from bot.errors import AdvisorError

    settings = get_settings()
    old = source or settings.channels.wecom.database_url or str(settings.data_dir / LEGACY_STATE_FILE)
    try:
        source_url(old)  # a missing file is refused before the app database is touched
        migrate(settings.database_url)
        report = copy_state(old, target_url=settings.database_url)
    except AdvisorError as exc:
        raise _fail(str(exc)) from exc
    for table, rows in report.copied.items():
        typer.echo(f"{table}: {rows}")
    if report.set_aside is not None:
        typer.echo(f"已导入，旧文件改名为 / imported; the old file is now {report.set_aside}")
    if settings.channels.wecom.database_url:
        typer.echo("Now remove channels.wecom.database_url (config.yml or ADVISOR_CHANNELS__WECOM__DATABASE_URL).")


@wecom_app.command()
def simulate(
    port: Annotated[int, typer.Option(help="Port of the simulated WeCom API (loopback).")] = 8020,
    app_url: Annotated[
        str | None, typer.Option("--app", help="The app's base URL (default app.public_base_url).")
    ] = None,
) -> None:
    """Run a local WeCom: 「联系我」 links, clients who add an advisor (the app is called back), welcome messages."""
    import uvicorn

    from bot.channels.wecom.config import load_wecom_config
    from bot.channels.wecom.crypto import WeComCrypto
    from bot.channels.wecom.simulator import WeComSimulator
    from bot.errors import AdvisorError

    settings = get_settings()
    try:
        config = load_wecom_config(
            settings.channels.wecom.model_copy(update={"enabled": True}), data_dir=settings.data_dir,
            database_url=settings.database_url, hotline=settings.app.hotline,
            max_message_chars=settings.app.max_message_chars,
        )  # fmt: skip
    except AdvisorError as exc:
        raise _fail(str(exc)) from exc
    base = f"http://127.0.0.1:{port}"
    callback = f"{(app_url or settings.app.public_base_url).rstrip('/')}/channels/wecom/callback"
    secrets = {s for s in (config.kf_secret, config.app_secret, config.contact_secret) if s}
    crypto = WeComCrypto(token=config.token, encoding_aes_key=config.encoding_aes_key, receive_id=config.corp_id)
    sim = WeComSimulator(crypto=crypto, corp_id=config.corp_id, secrets_=secrets, callback_url=callback,
                         base_url=base, on_event=lambda line: typer.secho(line, fg="cyan"))  # fmt: skip
    typer.echo(f"WeCom simulator on {base}; friend-adds are posted to {callback}")
    typer.echo(f"Point the app at it: ADVISOR_CHANNELS__WECOM__API_BASE_URL={base} (and the same WeCom secrets).")
    typer.echo("Opening a link's QR URL plays a client adding the advisor. Ctrl-C stops / 按 Ctrl-C 停止.")
    uvicorn.run(sim.app, host="127.0.0.1", port=port, log_level="warning")
