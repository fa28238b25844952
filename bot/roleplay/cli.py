"""`advisor roleplay`: practise in the terminal, score a transcript, list personas, see the team view.

    advisor roleplay --persona retiree_guaranteed [--advisor ID] [--seed N]
    advisor roleplay score TRANSCRIPT [--persona ID] [--json] [--no-judge]
    advisor roleplay personas
    advisor roleplay team [--advisor ID ...] [--json]
    advisor roleplay evaluate [LABELS ...] [--dev-errors] [--dev-only]

`score` is a contract for outside tests: TRANSCRIPT holds JSON lines of {"role": "advisor"|"client",
"text": "..."} ("-" reads stdin); --json prints the report (per criterion score, max, passed,
evidence; overall score, max_score, passed). Exit code 0 when scored (pass or fail: read `passed`),
2 for a bad transcript or bad settings.
"""

from __future__ import annotations

import asyncio
import getpass
import json
from typing import Annotated

import typer

from bot.errors import AdvisorError
from bot.roleplay.schemas import Report, TranscriptTurn
from bot.roleplay.service import TrainingService
from bot.roleplay.transcripts import read_transcript
from bot.settings import get_settings

roleplay_app = typer.Typer(
    help="Advisor training role-play (AI 陪练): practise with a simulated client and get scored.",
    pretty_exceptions_enable=False,
)


def _fail(message: str) -> typer.Exit:
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    return typer.Exit(code=2)


def print_report(report: Report) -> None:
    """The report for people: verdict, then each criterion with its evidence."""
    verdict = "通过 PASS" if report.passed else "未通过 FAIL"
    colour = typer.colors.GREEN if report.passed else typer.colors.RED
    typer.secho(
        f"\n{verdict}  {report.score:g}/{report.max_score:g} ({report.percent:g}%)  "
        f"persona {report.persona_id} · {report.client_risk_level}",
        fg=colour,
        bold=True,
    )
    for c in report.criteria.values():
        mark = "✓" if c.passed else "✗"
        typer.secho(f"{mark} {c.name} / {c.name_en}: {c.score:g}/{c.max:g}", fg=None if c.passed else colour)
        for e in c.evidence:
            where = f"[{e.turn}] " if e.turn else ""
            quote = f"「{e.quote}」 " if e.quote else ""
            typer.echo(f"    {where}{quote}{e.note or ''}".rstrip())
        if c.comment:
            typer.secho(f"    » {c.comment}", dim=True)
    if report.judge_comment:
        typer.secho(f"\n{report.judge_comment}", dim=True)


@roleplay_app.callback(invoke_without_command=True)
def practise(
    ctx: typer.Context,
    persona: Annotated[str | None, typer.Option("--persona", "-p", help="Persona id (see `personas`).")] = None,
    advisor: Annotated[str | None, typer.Option(help="Your advisor id (default: login name).")] = None,
    seed: Annotated[int | None, typer.Option(help="Seed: same seed, same scripted client.")] = None,
) -> None:
    """Practise against a persona in the terminal; /end scores the session, /quit leaves it open."""
    if ctx.invoked_subcommand is not None:
        return
    if persona is None:
        typer.echo(ctx.get_help())
        raise typer.Exit(code=0)
    try:
        asyncio.run(_converse(persona, advisor or _login(), seed))
    except AdvisorError as exc:
        raise _fail(str(exc)) from exc


def _login() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "cli"


def _read(prompt: str) -> str | None:
    try:
        return input(prompt)
    except EOFError:
        return None


async def _converse(persona_id: str, advisor_id: str, seed: int | None) -> None:
    service = await asyncio.to_thread(TrainingService.from_settings, get_settings())
    try:
        view = await service.start(persona_id=persona_id, advisor_id=advisor_id, seed=seed)
        p = view.persona
        typer.secho(f"{p.name} · {p.title}  ({p.profile.occupation}; {p.profile.summary})", bold=True)
        typer.echo(f"会话 session {view.session_id} · seed {view.seed} · engine {service.engine_name}")
        typer.echo("输入 /end 结束并评分，/quit 离开（不评分）/ Type /end to finish and score, /quit to leave.")
        typer.secho(f"客户 Client: {view.turns[0].text}", fg=typer.colors.CYAN)
        while True:
            line = await asyncio.to_thread(_read, "理财经理 You> ")
            if line is None or line.strip() == "/end":
                break
            if line.strip() == "/quit":
                typer.echo(f"Left open: session {view.session_id}")
                return
            if not line.strip():
                continue
            reply = await service.say(view.session_id, line.strip()[:1000])
            typer.secho(f"客户 Client: {reply.reply.text}", fg=typer.colors.CYAN)
            if reply.fallback:
                typer.secho("  (LLM unavailable for this turn; scripted reply)", dim=True)
            if reply.finished:
                typer.secho("  客户已道别，输入 /end 查看评分 / The client said goodbye; /end to score.", dim=True)
        print_report(await service.end(view.session_id))
    finally:
        await service.aclose()


@roleplay_app.command("score")
def score(
    transcript: Annotated[
        str, typer.Argument(help='JSON lines of {"role": "advisor"|"client", "text": ...}; - for stdin.')
    ],
    persona: Annotated[str | None, typer.Option("--persona", "-p", help="Score against this persona.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
    judge: Annotated[bool, typer.Option("--judge/--no-judge", help="LLM judge comments, if configured.")] = True,
) -> None:
    """Score a transcript (no database): the same rubric and guard as a live session."""
    try:
        turns = read_transcript(transcript)
    except (OSError, ValueError) as exc:
        raise _fail(str(exc)) from exc
    try:
        settings = get_settings()
        if not judge:
            settings = settings.model_copy(update={"roleplay": settings.roleplay.model_copy(update={"judge": False})})
        service = TrainingService.from_settings(settings, database=False)
        report = asyncio.run(_score(service, turns, persona))
    except AdvisorError as exc:
        raise _fail(str(exc)) from exc
    if as_json:
        typer.echo(report.model_dump_json(indent=2))
    else:
        print_report(report)


async def _score(service: TrainingService, turns: list[TranscriptTurn], persona: str | None) -> Report:
    try:
        return await service.score(turns, persona_id=persona)
    finally:
        await service.aclose()


@roleplay_app.command("personas")
def personas() -> None:
    """List the personas (id, language, title)."""
    try:
        service = TrainingService.from_settings(get_settings(), database=False)
    except AdvisorError as exc:
        raise _fail(str(exc)) from exc
    for card in service.cards():
        typer.echo(f"{card.id:22s} {card.language}  {card.name} · {card.title}")
    asyncio.run(service.aclose())


@roleplay_app.command("team")
def team(
    advisor: Annotated[list[str] | None, typer.Option(help="Only these advisors (repeatable).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Team view: average score per criterion and the most frequent violations."""

    async def run() -> str:
        service = await asyncio.to_thread(TrainingService.from_settings, get_settings())
        try:
            view = await service.team(advisor or ())
        finally:
            await service.aclose()
        if as_json:
            return view.model_dump_json(indent=2)
        lines = [f"ended sessions: {view.sessions}"]
        lines += [f"  {c.name} / {c.name_en}: {c.average:g}/{c.max:g} (pass {c.pass_rate:.0%})" for c in view.criteria]
        lines += ["most frequent violations:"]
        lines += [f"  {v.rule}{' (critical)' if v.critical else ''}: {v.count}" for v in view.top_violations]
        return "\n".join(lines)

    try:
        typer.echo(asyncio.run(run()))
    except AdvisorError as exc:
        raise _fail(str(exc)) from exc


@roleplay_app.command("evaluate")
def evaluate_labels(
    labels: Annotated[
        list[str] | None, typer.Argument(help="Labels YAML files (default: the held-out set and dev2).")
    ] = None,
    dev_errors: Annotated[bool, typer.Option("--dev-errors", help="Also list the dev split's disagreements.")] = False,
    dev_only: Annotated[bool, typer.Option("--dev-only", help="Score dev splits only (for tuning).")] = False,
) -> None:
    """Agreement with labelled transcripts per criterion, one entry per file and split (JSON; rules only)."""
    from pathlib import Path

    from bot.roleplay.evaluation import LABELS_FILES, SPLITS, report

    try:
        settings = get_settings()
        rules_only = settings.roleplay.model_copy(update={"judge": False, "use_llm": False})
        service = TrainingService.from_settings(settings.model_copy(update={"roleplay": rules_only}), database=False)
        paths = [Path(p) for p in labels] if labels else list(LABELS_FILES)

        async def run() -> dict[str, object]:
            try:
                return await report(service, paths, dev_errors=dev_errors, splits=("dev",) if dev_only else SPLITS)
            finally:
                await service.aclose()

        result = asyncio.run(run())
    except AdvisorError as exc:
        raise _fail(str(exc)) from exc
    typer.echo(json.dumps(result, ensure_ascii=False, indent=2))


if __name__ == "__main__":  # `python -m bot.roleplay.cli ...` before `advisor roleplay` is wired in
    roleplay_app()
