"""`advisor campaign`: create, run, report on outbound reactivation campaigns.

    advisor campaign create --name NAME --clients FILE.csv [--seed N] [--control-share 0.2]
                            [--variant A=script-id ...] [--json]
    advisor campaign list [--json]
    advisor campaign run ID [--dry-run] [--max-concurrent N] [--cps X] [--json]
    advisor campaign outcomes ID --file activity.csv [--json]
    advisor campaign report ID [--outcome NAME] [--json]
    advisor campaign train-propensity [--outcome NAME] [--campaign ID ...] [--json]

Exit codes: 0 done, 2 bad input or settings (the message says what to fix).
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import BaseModel
from sqlalchemy.orm import Session, sessionmaker

from bot.db import make_engine, migrate, session_factory, transaction
from bot.errors import AdvisorError
from bot.settings import Settings, get_settings
from telephony.provider import CallProvider

campaign_app = typer.Typer(
    help="Outbound reactivation campaigns / 外呼唤醒活动: import, plan, dial, measure.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


def _fail(message: str) -> typer.Exit:
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    return typer.Exit(code=2)


def build_provider(settings: Settings) -> CallProvider:
    """The configured provider (imported lazily: the Twilio SDK loads only when a command needs it)."""
    from telephony.factory import build_provider as build

    return build(settings)


def _sessions(settings: Settings) -> sessionmaker[Session]:
    migrate(settings.database_url)
    return session_factory(make_engine(settings.database_url))


def _echo_json(model: BaseModel) -> None:
    typer.echo(json.dumps(model.model_dump(mode="json"), ensure_ascii=False, indent=2))


def _variants(values: list[str]) -> dict[str, str] | None:
    if not values:
        return None
    out = {}
    for value in values:
        arm, sep, script = value.partition("=")
        if not sep or not arm.strip() or not script.strip():
            raise AdvisorError(f"--variant {value!r}: expected ARM=SCRIPT_ID, e.g. A=script-payroll")
        out[arm.strip()] = script.strip()
    return out


def _counts(title: str, counts: dict[str, Any]) -> None:
    if counts:
        typer.echo(f"  {title}: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))


@campaign_app.command()
def create(
    name: Annotated[str, typer.Option(help="Campaign name / 活动名称.")],
    clients: Annotated[Path, typer.Option(exists=True, dir_okay=False, help="Client list CSV (UTF-8).")],
    seed: Annotated[int | None, typer.Option(help="Random seed of the control assignment (stored).")] = None,
    control_share: Annotated[float | None, typer.Option(help="Share held out as control (default config).")] = None,
    variant: Annotated[list[str] | None, typer.Option(help="Script arm ARM=SCRIPT_ID (repeat for A/B).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Import and validate the client list, check eligibility, segment, assign control, and plan the calls."""
    from bot.campaigns.service import CreateOptions, create_campaign

    settings = get_settings()
    try:
        from telephony.factory import refusal_rule

        refusal = refusal_rule(settings)
        options = CreateOptions(name=name, seed=seed, variants=_variants(variant or []), control_share=control_share)
        with transaction(_sessions(settings)) as session:
            created = create_campaign(session, settings, options, clients_file=clients, refusal=refusal)
    except AdvisorError as exc:
        raise _fail(str(exc)) from exc
    if as_json:
        _echo_json(created)
        return
    s = created.summary
    typer.secho(
        f"活动已创建 / campaign created: #{created.campaign_id} {created.name} (seed {created.seed})", fg="green"
    )
    typer.echo(f"  行数 rows {s['rows']} · 拒收 rejected {s['rejected']} · 排除 excluded {s['excluded']}"
               f" · 可呼叫 eligible {s['eligible']}")  # fmt: skip
    _counts("拒收原因 rejected", s["rejected_reasons"])
    _counts("排除原因 excluded", s["excluded_reasons"])
    _counts("分组 arms", s["arms"])
    _counts("客群 segments", s["segments"])
    for row in created.rejected_rows[:20]:
        typer.echo(f"  row {row['row']} {row['client_id'] or '-'}: {'; '.join(row['reasons'])}")
    if len(created.rejected_rows) > 20:
        typer.echo(f"  ... use --json for all {s['rejected']} rejected rows (reasons are stored with each row)")


@campaign_app.command("list")
def list_(as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False) -> None:
    """Every campaign, newest first."""
    from bot.campaigns.report import list_campaigns

    with _sessions(get_settings())() as session:
        campaigns = list_campaigns(session)
    if as_json:
        typer.echo(json.dumps([c.model_dump(mode="json") for c in campaigns], ensure_ascii=False, indent=2))
        return
    for c in campaigns:
        typer.echo(
            f"#{c.id} {c.name} [{c.status}] rows {c.rows} eligible {c.eligible} {c.arms} ({c.created_at:%Y-%m-%d})"
        )


@campaign_app.command()
def run(
    campaign_id: Annotated[int, typer.Argument(help="Campaign id.")],
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Show who would be called now; call nobody.")] = False,
    max_concurrent: Annotated[int | None, typer.Option(min=1, help="Calls in flight (default config).")] = None,
    cps: Annotated[float | None, typer.Option(min=0.05, max=30, help="Calls per second (default config).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Dial every due client (retries included) within the limits; safe to stop and run again."""
    from bot.campaigns.dialer import run_campaign

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
        return
    if dry_run:
        later = max(summary.remaining - summary.would_dial_count, 0)
        typer.echo(
            f"试运行 / dry run: {summary.would_dial_count} would be dialled now (first 50 below); "
            f"稍后 later: {later} waiting for their calling window or retry time; not now:"
        )
        _counts("原因 reasons", summary.skipped)
        for item in summary.would_dial:
            typer.echo(
                f"  {item['client_id']} arm={item['arm']} segment={item['segment']} priority={item['priority']}"
                f" attempt={item['attempt_no']} script={item['script_id']}"
            )
        return
    typer.echo(f"已拨打 dialled {summary.dialed} · 接通请求 placed {summary.placed} · 失败 failed {summary.failed}"
               f" · 拒绝 refused {summary.refused} · 待处理 remaining {summary.remaining}")  # fmt: skip
    _counts("跳过 skipped", summary.skipped)
    if summary.recovered_unknown:
        typer.echo(f"  恢复 recovered {summary.recovered_unknown} attempt(s) left by a crash (counted, not re-dialled)")


@campaign_app.command()
def outcomes(
    campaign_id: Annotated[int, typer.Argument(help="Campaign id.")],
    file: Annotated[Path, typer.Option(exists=True, dir_okay=False, help="Activity CSV (see outcomes.py).")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Import post-campaign activity for both arms: client_id,activity_date,<outcome>..."""
    from bot.campaigns.outcomes import import_outcomes

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
    campaign_id: Annotated[int, typer.Argument(help="Campaign id.")],
    outcome: Annotated[str | None, typer.Option(help="Outcome to measure (default config).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Funnel per arm and segment, conversion, and uplift over control (95% CI, z-test)."""
    from bot.campaigns.report import build_report

    try:
        with _sessions(get_settings())() as session:
            result = build_report(session, campaign_id=campaign_id, outcome=outcome)
    except AdvisorError as exc:
        raise _fail(str(exc)) from exc
    if as_json:
        _echo_json(result)
        return
    typer.secho(f"#{result.campaign_id} {result.name} · 指标 outcome: {result.outcome} "
                f"({result.outcome_window[0]} – {result.outcome_window[1]})", bold=True)  # fmt: skip
    typer.echo(f"{'arm':12s} {'segment':22s} eligible dialed answered human engaged leads opt-outs converted rate")
    for row in [*result.arms, *result.segments]:
        f = row.funnel
        rate = f"{row.conversion_rate:.2%}" if row.conversion_rate is not None else "-"
        typer.echo(f"{row.arm:12s} {row.segment or '(all)':22s} {f.eligible:8d} {f.dialed:6d} {f.answered:8d} "
                   f"{f.human:5d} {f.engaged:7d} {f.leads:5d} {f.opt_outs:8d} {f.converted:9d} {rate}")  # fmt: skip
    for up in [u for u in [result.uplift, *result.uplift_by_arm] if u is not None]:
        if up.uplift is None or up.ci_low is None or up.ci_high is None:
            typer.echo(f"提升 uplift ({up.treatment}): not enough data")
            continue
        p = f"{up.p_value:.4f}" if up.p_value is not None else "-"
        typer.echo(f"提升 uplift ({up.treatment} vs control): {up.uplift:+.2%} "
                   f"[95% CI {up.ci_low:+.2%}, {up.ci_high:+.2%}] p={p}"
                   f"{' 显著 significant' if up.significant else ''}")  # fmt: skip


@campaign_app.command("train-propensity")
def train_propensity(
    outcome: Annotated[str | None, typer.Option(help="Outcome to predict (default config).")] = None,
    campaign: Annotated[list[int] | None, typer.Option(help="Train on these campaigns only (repeat).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Fit the propensity model (LogisticRegression) on past campaigns' called clients and outcomes."""
    from bot.campaigns.propensity import train_propensity as train

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
