"""`advisor campaign`: create, run, pause, report on outbound reactivation campaigns.

    advisor campaign create --name NAME --clients FILE.csv [--seed N] [--control-share 0.2]
                            [--variant A=script-id ...] [--json]
    advisor campaign list [--all] [--json]
    advisor campaign run ID [--dry-run] [--max-concurrent N] [--cps X] [--json]
    advisor campaign pause|resume|archive ID      advisor campaign delete ID --yes
    advisor campaign outcomes ID --file activity.csv [--json]
    advisor campaign report ID [--outcome NAME] [--json]
    advisor campaign train-propensity [--outcome NAME] [--campaign ID ...] [--json]

Exit codes: 0 done, 2 bad input or settings (the message says what to fix). Heavy modules are imported
inside each command, so `--help` stays instant. Names are labels (segments.yml, labels.yml) with the
id alongside; rates are percentages and uplifts percentage points (pp), as in the console.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from bot.campaigns.cli_text import counts, print_dry_run, print_report, print_run, warn

if TYPE_CHECKING:
    from pydantic import BaseModel
    from sqlalchemy.orm import Session, sessionmaker

    from bot.campaigns.provider import CallProvider
    from bot.settings import Settings

campaign_app = typer.Typer(
    help="Outbound reactivation campaigns / 外呼唤醒活动: import, plan, dial, measure.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
CampaignId = Annotated[int, typer.Argument(metavar="ID", help="Campaign id (advisor campaign list).")]
AsJson = Annotated[bool, typer.Option("--json", help="Print JSON.")]


def get_settings() -> Settings:
    from bot.settings import get_settings as settings

    return settings()


def build_provider(settings: Settings) -> CallProvider:
    """The configured provider (imported lazily: the Twilio SDK loads only when a command needs it)."""
    from telephony.factory import build_provider as build

    return build(settings)


def _fail(message: str) -> typer.Exit:
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    return typer.Exit(code=2)


def _sessions(settings: Settings) -> sessionmaker[Session]:
    from bot.db import make_engine, migrate, session_factory

    migrate(settings.database_url)
    return session_factory(make_engine(settings.database_url))


def _echo_json(model: BaseModel) -> None:
    typer.echo(json.dumps(model.model_dump(mode="json"), ensure_ascii=False, indent=2))


def _variants(values: list[str]) -> dict[str, str] | None:
    from bot.errors import InputError

    if not values:
        return None
    out = {}
    for value in values:
        arm, sep, script = value.partition("=")
        if not sep or not arm.strip() or not script.strip():
            raise InputError(f"--variant {value!r}: expected ARM=SCRIPT_ID, e.g. A=script-payroll")
        out[arm.strip()] = script.strip()
    return out


@campaign_app.command()
def create(
    name: Annotated[str, typer.Option(help="Campaign name / 活动名称.")],
    clients: Annotated[
        Path,
        typer.Option(
            exists=True, dir_okay=False, help="Client list CSV (UTF-8); sample: bot/campaigns/examples/clients.csv."
        ),
    ],
    seed: Annotated[int | None, typer.Option(help="Random seed of the control assignment (stored).")] = None,
    control_share: Annotated[float | None, typer.Option(help="Share held out as control (default config).")] = None,
    variant: Annotated[list[str] | None, typer.Option(help="Script arm ARM=SCRIPT_ID (repeat for A/B).")] = None,
    as_json: AsJson = False,
) -> None:
    """Import and validate the client list, check eligibility, segment, assign control, and plan the calls."""
    from bot.campaigns.labels import reason_text
    from bot.campaigns.service import CreateOptions, create_campaign
    from bot.db import transaction
    from bot.errors import AdvisorError
    from telephony.factory import refusal_rule

    settings = get_settings()
    try:
        options = CreateOptions(name=name, seed=seed, variants=_variants(variant or []), control_share=control_share)
        with transaction(_sessions(settings)) as session:
            created = create_campaign(session, settings, options, clients_file=clients, refusal=refusal_rule(settings))
    except AdvisorError as exc:
        raise _fail(str(exc)) from exc
    if as_json:
        _echo_json(created)
        return
    s = created.summary
    labels = s.get("segment_labels", {})
    typer.secho(
        f"活动已创建 / campaign created: #{created.campaign_id} {created.name} (seed {created.seed})", fg="green"
    )
    typer.echo(f"  行数 rows {s['rows']} · 拒收 rejected {s['rejected']} · 排除 excluded {s['excluded']}"
               f" · 可呼叫 eligible {s['eligible']}")  # fmt: skip
    counts("拒收原因 rejected", s["rejected_reasons"], reason_text)
    counts("排除原因 excluded", s["excluded_reasons"], reason_text)
    for refusal, count in s.get("provider_refusals", {}).items():
        typer.echo(f"    {count} × {refusal}")
    counts("分组 arms", s["arms"])
    counts("客群 segments", s["segments"], lambda k: f"{labels.get(k, {}).get('zh', k)} ({k})")
    for row in created.rejected_rows[:20]:
        typer.echo(f"  row {row['row']} {row['client_id'] or '-'}: {'; '.join(row['reasons'])}")
    if len(created.rejected_rows) > 20:
        typer.echo(f"  ... use --json for all {s['rejected']} rejected rows (reasons are stored with each row)")
    warn(created.warnings)


@campaign_app.command("list")
def list_(
    include_archived: Annotated[bool, typer.Option("--all", help="Include archived campaigns.")] = False,
    as_json: AsJson = False,
) -> None:
    """Every campaign, newest first, with its status (planned, running, paused, completed, archived)."""
    from bot.campaigns.report import list_campaigns

    with _sessions(get_settings())() as session:
        campaigns = list_campaigns(session, archived=include_archived)
    if as_json:
        typer.echo(json.dumps([c.model_dump(mode="json") for c in campaigns], ensure_ascii=False, indent=2))
        return
    if not campaigns:
        typer.echo("尚无营销活动 / no campaigns" + ("" if include_archived else " (--all shows archived ones)"))
    for c in campaigns:
        dialer = " · 外呼中 dialling now" if c.dialer_active else ""
        arms = ", ".join(f"{k} {v}" for k, v in c.arms.items()) or "-"
        typer.echo(f"#{c.id} {c.name} [{c.status_label.text()}{dialer}] rows {c.rows} eligible {c.eligible} "
                   f"({arms}) created {c.created_at:%Y-%m-%d %H:%M} UTC")  # fmt: skip
        warn(c.warnings)


@campaign_app.command()
def run(
    campaign_id: CampaignId,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Show who would be called now; call nobody.")] = False,
    max_concurrent: Annotated[int | None, typer.Option(min=1, help="Calls in flight (default config).")] = None,
    cps: Annotated[float | None, typer.Option(min=0.05, max=30, help="Calls per second (default config).")] = None,
    as_json: AsJson = False,
) -> None:
    """Dial every due client (retries included) within the limits; safe to stop and run again.

    The campaign becomes running, then completed once nobody is left to call; `campaign pause` stops a
    run after the calls in flight. A progress bar shows the calls placed.
    """
    import asyncio

    from bot.campaigns.dialer import run_campaign
    from bot.errors import AdvisorError

    settings = get_settings()
    try:
        if dry_run:
            from telephony.factory import PlanningProvider

            provider: CallProvider = PlanningProvider(settings)
        else:
            provider = build_provider(settings)
        summary = asyncio.run(
            run_campaign(
                sessions=_sessions(settings),
                provider=provider,
                settings=settings,
                campaign_id=campaign_id,
                dry_run=dry_run,
                progress=not as_json,
                max_concurrent=max_concurrent,
                cps=cps,
            )
        )
    except (AdvisorError, LookupError) as exc:
        raise _fail(str(exc)) from exc
    if as_json:
        _echo_json(summary)
    elif dry_run:
        print_dry_run(summary)
    else:
        print_run(summary)


OUTCOMES_HELP = """Import post-campaign activity for BOTH arms (treated and control alike).

\b
FILE is UTF-8 CSV with a header row:
    client_id,activity_date,purchased,aum_increase
    C00001,2026-12-12,yes,50000
    C00002,2026-12-15,no,
client_id and activity_date (YYYY-MM-DD) come first; every other column is an outcome named by its
header (lower-case letters, digits, _). Values: yes/no, true/false, 1/0, 是/否, or a number; empty
means nothing recorded; a value > 0 counts as converted. Re-importing a file changes nothing.
\b
Known outcomes and their labels: bot/campaigns/outcomes.yml (purchased, aum_increase, retained,
wecom_added). The report counts activity within campaigns.outcome_window_days of planning.
"""


@campaign_app.command(help=OUTCOMES_HELP)
def outcomes(
    campaign_id: CampaignId,
    file: Annotated[
        Path, typer.Option(exists=True, dir_okay=False, help="Activity CSV: client_id,activity_date,<outcome>...")
    ],
    as_json: AsJson = False,
) -> None:
    from bot.campaigns.outcomes import import_outcomes
    from bot.db import transaction
    from bot.errors import AdvisorError

    try:
        with transaction(_sessions(get_settings())) as session:
            result = import_outcomes(session, campaign_id=campaign_id, path=file)
    except AdvisorError as exc:
        raise _fail(str(exc)) from exc
    if as_json:
        _echo_json(result)
        return
    typer.echo(
        f"行 rows {result.rows} · 新值 new values {result.values_new} · 已导入 already imported"
        f" {result.values_already_imported} · 拒收 rejected {len(result.rejected)} ({', '.join(result.outcomes)})"
    )
    for row in result.rejected[:20]:
        typer.echo(f"  row {row['row']} {row['client_id'] or '-'}: {'; '.join(row['reasons'])}")


@campaign_app.command()
def report(
    campaign_id: CampaignId,
    outcome: Annotated[str | None, typer.Option(help="Outcome to measure (default config).")] = None,
    as_json: AsJson = False,
) -> None:
    """Funnel per arm and segment, conversion, and uplift over control in pp (95% CI, Newcombe)."""
    from bot.campaigns.report import build_report
    from bot.errors import AdvisorError

    settings = get_settings()
    try:
        with _sessions(settings)() as session:
            result = build_report(
                session, campaign_id=campaign_id, outcome=outcome, segments_file=settings.campaigns.segments_file,
                min_clients=settings.campaigns.min_clients_per_arm,
            )  # fmt: skip
    except AdvisorError as exc:
        raise _fail(str(exc)) from exc
    if as_json:
        _echo_json(result)
    else:
        print_report(result)


def _lifecycle(action: str, campaign_id: int) -> None:
    from bot.campaigns import lifecycle
    from bot.campaigns.labels import label
    from bot.db import transaction, utcnow
    from bot.errors import AdvisorError

    try:
        with transaction(_sessions(get_settings())) as session:
            if action == "archive":
                campaign = lifecycle.archive(session, campaign_id=campaign_id, now=utcnow())
            else:
                campaign = getattr(lifecycle, action)(session, campaign_id=campaign_id)
            status = campaign.status
    except AdvisorError as exc:
        raise _fail(str(exc)) from exc
    typer.echo(f"#{campaign_id}: {label('statuses', status).text()}")


@campaign_app.command()
def pause(campaign_id: CampaignId) -> None:
    """Stop dialling; a running `campaign run` finishes its calls in flight and exits."""
    _lifecycle("pause", campaign_id)


@campaign_app.command()
def resume(campaign_id: CampaignId) -> None:
    """Allow dialling again; the next `campaign run` continues where it stopped."""
    _lifecycle("resume", campaign_id)


@campaign_app.command()
def archive(campaign_id: CampaignId) -> None:
    """Hide a completed, paused or never-started campaign from the lists (its data are kept)."""
    _lifecycle("archive", campaign_id)


@campaign_app.command()
def delete(
    campaign_id: CampaignId,
    yes: Annotated[
        bool, typer.Option("--yes", help="Confirm: the campaign and its imported rows are removed.")
    ] = False,
) -> None:
    """Remove a campaign that never dialled anybody (e.g. imported by mistake); otherwise archive it."""
    from bot.campaigns.lifecycle import delete_campaign
    from bot.db import transaction
    from bot.errors import AdvisorError

    if not yes:
        raise _fail(f"deleting campaign {campaign_id} cannot be undone: add --yes to confirm")
    try:
        with transaction(_sessions(get_settings())) as session:
            name = delete_campaign(session, campaign_id=campaign_id)
    except AdvisorError as exc:
        raise _fail(str(exc)) from exc
    typer.echo(f"已删除 deleted #{campaign_id} {name}")


@campaign_app.command("train-propensity")
def train_propensity(
    outcome: Annotated[str | None, typer.Option(help="Outcome to predict (default config).")] = None,
    campaign: Annotated[list[int] | None, typer.Option(help="Train on these campaigns only (repeat).")] = None,
    as_json: AsJson = False,
) -> None:
    """Fit the propensity model (LogisticRegression) on past campaigns' called clients and outcomes."""
    from bot.campaigns.propensity import train_propensity as train
    from bot.errors import AdvisorError

    settings = get_settings()
    try:
        with _sessions(settings)() as session:
            result = train(session, settings=settings, outcome=outcome, campaign_ids=campaign or None)
    except AdvisorError as exc:
        raise _fail(str(exc)) from exc
    if as_json:
        _echo_json(result)
        return
    typer.echo(f"模型已保存 / model saved: {result.path} · outcome {result.outcome} · rows {result.rows} "
               f"({result.positives} positive) · campaigns {result.campaigns} · training AUC {result.auc}")  # fmt: skip
