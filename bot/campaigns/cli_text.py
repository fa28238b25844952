"""How `advisor campaign` prints its results for people: labels first, rates in %, uplifts in pp.

Kept apart from the commands (cli.py) so each stays short; the --json output is the models themselves.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import typer

if TYPE_CHECKING:
    from bot.campaigns.alongside import OutcomeComparison
    from bot.campaigns.dialer import RunSummary
    from bot.campaigns.report import CampaignReport
    from bot.campaigns.uplift import Uplift


def counts(title: str, values: dict[str, Any], name: Any = None) -> None:
    """One line of counts, each key by its label (`name(key)`), largest first; nothing when empty."""
    if values:
        shown = (f"{name(k) if name else k} {v}" for k, v in sorted(values.items(), key=lambda kv: (-kv[1], kv[0])))
        typer.echo(f"  {title}: " + ", ".join(shown))


def warn(warnings: list[str]) -> None:
    """Warnings in yellow, one per line."""
    for warning in warnings:
        typer.secho(f"  ⚠ {warning}", fg=typer.colors.YELLOW)


def print_run(summary: RunSummary) -> None:
    """What a run did, and the campaign's status after it."""
    from bot.campaigns.labels import label, reason_text

    typer.echo(f"已拨打 dialled {summary.dialed} · 接通请求 placed {summary.placed} · 失败 failed {summary.failed}"
               f" · 拒绝 refused {summary.refused} · 待处理 remaining {summary.remaining}"
               f" · 状态 status {label('statuses', summary.status).text()}")  # fmt: skip
    counts("跳过 skipped", summary.skipped, reason_text)
    if summary.recovered_unknown:
        typer.echo(f"  恢复 recovered {summary.recovered_unknown} attempt(s) left by a crash (counted, not re-dialled)")


def print_dry_run(summary: RunSummary) -> None:
    """Who would be called now, why others not now (only if any), and when the waiting ones are planned."""
    from bot.campaigns.labels import label, reason_text
    from bot.campaigns.rules import zone

    typer.echo(f"试运行 / dry run (status {label('statuses', summary.status).text()}): "
               f"{summary.would_dial_count} would be dialled now; {summary.remaining} still to call")  # fmt: skip
    counts("现在不拨 not now", summary.skipped, reason_text)
    for item in summary.would_dial:
        typer.echo(f"  {item['client_id']} arm={item['arm']} segment={item['segment']} priority={item['priority']}"
                   f" attempt={item['attempt_no']} script={item['script_id']}")  # fmt: skip
    if summary.scheduled:
        typer.echo("  计划拨打时间 scheduled calls (client's local time):")
        for slot in summary.scheduled:
            local = slot["at"].astimezone(zone(slot["timezone"]))
            typer.echo(f"    {local:%Y-%m-%d %H:%M} {slot['timezone']} · {slot['clients']} client(s)")
    elif not summary.would_dial_count:
        typer.echo("  没有待拨客户 / nobody is scheduled: every eligible client has been called or stopped")


def _pct(value: float | None) -> str:
    return f"{100 * value:.1f}%" if value is not None else "-"


def _pp(value: float | None) -> str:
    return f"{100 * value:+.2f} pp" if value is not None else "-"


def print_report(result: CampaignReport) -> None:
    """The board as text: funnel per arm and segment, then each uplift with its interval and verdict."""
    from bot.campaigns.labels import label

    sources = " · ".join(f"{label('arms', side).zh} {_sources(result.outcome_sources[side])}"
                         for side in ("treatment", "control"))  # fmt: skip
    typer.secho(f"#{result.campaign_id} {result.name} [{result.status_label.text()}] · 指标 outcome: "
                f"{result.outcome_label.text()} ({result.outcome}) · 来源 sources: {sources} · "
                f"{result.outcome_window[0]} – {result.outcome_window[1]}", bold=True)  # fmt: skip
    typer.echo(f"{'arm':14s} {'segment':34s} eligible dialed answered human engaged leads opt-outs converted rate")
    for row in [*result.arms, *result.segments]:
        f = row.funnel
        segment = f"{row.segment_label.zh} ({row.segment})" if row.segment_label else "(all 全部)"
        typer.echo(f"{row.arm_label.zh + ' ' + row.arm:14s} {segment:34s} {f.eligible:8d} {f.dialed:6d} "
                   f"{f.answered:8d} {f.human:5d} {f.engaged:7d} {f.leads:5d} {f.opt_outs:8d} {f.converted:9d} "
                   f"{_pct(row.conversion_rate)}")  # fmt: skip
    typer.echo(f"提升 uplift = treatment rate − control rate, in percentage points (pp); 95% CI Newcombe; "
               f"below {result.min_clients_per_arm} clients per side: too few to tell")  # fmt: skip
    _print_uplifts([result.uplift, *result.uplift_by_arm, *result.uplift_by_segment])
    for other in result.alongside:
        _print_alongside(other)


def _sources(sources: list[str]) -> str:
    from bot.campaigns.labels import label

    return "+".join(label("sources", s).zh for s in sources)


def _print_uplifts(uplifts: list[Uplift | None]) -> None:
    for up in [u for u in uplifts if u is not None]:
        scope = f"{up.treatment_label.zh} vs 对照组" + (
            f" · {up.segment_label.zh} ({up.segment})" if up.segment_label else ""
        )
        if up.uplift is None:
            typer.echo(f"  {scope}: {up.verdict_label.text()}")
            continue
        p = f"{up.p_value:.3f}" if up.p_value is not None else "-"
        typer.echo(f"  {scope}: {_pp(up.uplift)} [95% CI {_pp(up.ci_low)}, {_pp(up.ci_high)}] p={p} "
                   f"n={up.n_treatment}/{up.n_control} → {up.verdict_label.text()}")  # fmt: skip


def _print_alongside(other: OutcomeComparison) -> None:
    """A second outcome (e.g. the WeCom add rate): its rate per arm and segment, with the sources each counts."""
    from bot.campaigns.labels import label

    sides = " · ".join(f"{label('arms', side).zh} {_sources(other.outcome_sources[side])}"
                       for side in ("treatment", "control"))  # fmt: skip
    typer.secho(f"{other.outcome_label.text()} ({other.outcome}) · 来源 sources: {sides}", bold=True)
    typer.echo(f"{'arm':14s} {'segment':34s} eligible converted rate   clients per source (counted)")
    for row in [*other.arms, *other.segments]:
        segment = f"{row.segment_label.zh} ({row.segment})" if row.segment_label else "(all 全部)"
        per_source = ", ".join(
            f"{label('sources', s).zh} {n}{'' if s in row.sources else ' (不计入 not counted)'}"
            for s, n in row.by_source.items() if n or s in row.sources
        )  # fmt: skip
        typer.echo(f"{row.arm_label.zh + ' ' + row.arm:14s} {segment:34s} {row.eligible:8d} {row.converted:9d} "
                   f"{_pct(row.rate):6s} {per_source}")  # fmt: skip
    _print_uplifts([other.uplift, *other.uplift_by_arm, *other.uplift_by_segment])
