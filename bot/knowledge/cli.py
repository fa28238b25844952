"""`advisor kb ingest|search|evaluate` and `advisor ask [--batch]`: thin commands over KnowledgeService.

Each command reads settings at call time (`get_settings()`), never at import. Mount with
`app.add_typer(kb_app, name="kb")` and `app.command()(ask)`.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Annotated, Literal

import typer

from bot.core.audit import audit_trail
from bot.errors import AdvisorError
from bot.knowledge.evaluation import Evaluation, answer_all, read_batch
from bot.knowledge.evaluation import evaluate as evaluate_all
from bot.knowledge.models import AUDIENCES, Answer
from bot.knowledge.service import KnowledgeService
from bot.language import Language, detect_language
from bot.settings import get_settings

kb_app = typer.Typer(help="Approved content: ingest, search, evaluate.", no_args_is_help=True)

ChannelOption = Annotated[
    Literal["web", "wecom", "voice"] | None, typer.Option(help="Only content allowed on this channel.")
]


def _fail(exc: Exception) -> typer.Exit:
    typer.secho(f"error: {exc}", fg=typer.colors.RED, err=True)
    return typer.Exit(code=2)


def _dump(data: object) -> None:
    typer.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))


@kb_app.command()
def ingest(
    path: Annotated[Path, typer.Argument(help="A folder holding products.yml and/or docs/*.md.")],
    reset: Annotated[bool, typer.Option("--reset", help="Empty the index first.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
    strict: Annotated[bool, typer.Option("--strict", help="Exit 1 when any file is invalid.")] = False,
) -> None:
    """Validate and index PATH; the index then mirrors the folder (removed files are unindexed).

    Drafts (no approval), expired content and content not yet valid are reported and never indexed.
    """
    from bot.cli.progress import Ticker

    try:
        with Ticker("Opening the content store and the embedding model"):
            service = KnowledgeService.from_settings(get_settings())
        report = service.ingest(path, reset=reset)  # draws its own bar of chunks indexed on a terminal
    except AdvisorError as exc:
        raise _fail(exc) from exc
    if as_json:
        _dump(report.model_dump(mode="json") | {"summary": report.summary()})
    else:
        typer.echo(report.details())
    if strict and not report.ok:
        raise typer.Exit(code=1)


@kb_app.command()
def search(
    query: Annotated[str, typer.Argument(help="What to look for.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    channel: ChannelOption = None,
    audience: Annotated[str | None, typer.Option(help="Client level C1-C5 (audience filter).")] = None,
    k: Annotated[int, typer.Option("-k", "--k", min=1, max=50, help="How many chunks.")] = 5,
) -> None:
    """Ranked sources with their scores (fused RRF `score`; `relevance`: the answer gate's probability)."""
    try:
        service = KnowledgeService.from_settings(get_settings())
        hits = service.search_sync(query, channel=channel, audience=audience, k=k)
    except AdvisorError as exc:
        raise _fail(exc) from exc
    if as_json:
        _dump(
            {
                "query": query,
                "threshold": service.relevance_threshold,
                "hits": [h.model_dump(mode="json") for h in hits],
            }
        )
        return
    for hit in hits:
        typer.secho(
            f"{hit.rank}. [{hit.id}] {hit.title}  relevance={hit.relevance:.3f} score={hit.score:.4f}",
            bold=True,
        )
        typer.echo("   " + hit.text.replace("\n", " ")[:200])
    if not hits:
        typer.echo("(no usable content)")


def ask(
    question: Annotated[str | None, typer.Argument(help="The client's question.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    channel: Annotated[Literal["web", "wecom", "voice"], typer.Option(help="Channel the answer is for.")] = "web",
    risk_level: Annotated[str | None, typer.Option("--risk-level", help="Client's risk level C1-C5, if known.")] = None,
    batch: Annotated[
        Path | None,
        typer.Option("--batch", help="A JSONL file of questions ({q, channel?, language?}); one answer per line."),
    ] = None,
) -> None:
    """Answer QUESTION from approved content, as the bot would (JSON: answer, citations, grounded,
    mode, disclosures). With --batch, answer every line of a file with the models loaded once."""
    if (question is None) == (batch is None):
        raise typer.BadParameter("give a QUESTION or --batch FILE.jsonl (not both)")
    if risk_level is not None and risk_level.strip().upper() not in AUDIENCES:
        raise typer.BadParameter("use C1, C2, C3, C4 or C5", param_hint="--risk-level")
    settings = get_settings()
    if batch is not None:
        _ask_batch(batch, settings.default_language)
        return
    assert question is not None
    language = detect_language(question) or settings.default_language

    async def run() -> Answer:
        service = KnowledgeService.from_settings(settings, audit=audit_trail(settings))
        try:
            return await service.answer(question, language=language, channel=channel, risk_level=risk_level)
        finally:
            await service.aclose()

    try:
        answer = asyncio.run(run())
    except AdvisorError as exc:
        raise _fail(exc) from exc
    if as_json:
        _dump(answer.model_dump(mode="json"))
        return
    typer.echo(answer.answer)
    for citation in answer.citations:
        typer.secho(f"  [{citation.id}] {citation.title}", dim=True)


def _ask_batch(path: Path, default: Language) -> None:
    """One compact JSON answer per input line (a bad line gets {"line", "error"}; exit 1 if any)."""

    async def run() -> list[dict[str, object]]:
        settings = get_settings()
        service = KnowledgeService.from_settings(settings, audit=audit_trail(settings))
        try:
            return await answer_all(service, read_batch(path), default)
        finally:
            await service.aclose()

    try:
        answers = asyncio.run(run())
    except AdvisorError as exc:
        raise _fail(exc) from exc
    for answer in answers:
        typer.echo(json.dumps(answer, ensure_ascii=False))
    if any("error" in a for a in answers):
        raise typer.Exit(code=1)


@kb_app.command()
def evaluate(
    path: Annotated[Path, typer.Argument(help="JSONL: {q, expect: [ids] ([] = should decline), channel?, language?}.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Answer every question as the bot would and compare with the expected sources: answered-correct
    (first citation right), declined, hit@1/hit@3, out-of-scope declined, and the misses."""
    settings = get_settings()

    async def run() -> Evaluation:
        service = KnowledgeService.from_settings(settings, audit=audit_trail(settings))
        try:
            return await evaluate_all(service, read_batch(path), settings.default_language)
        finally:
            await service.aclose()

    try:
        report = asyncio.run(run())
    except AdvisorError as exc:
        raise _fail(exc) from exc
    summary, misses = report.summary(), report.misses()
    if as_json:
        _dump({"summary": summary, "misses": misses, "bad_lines": [b.model_dump() for b in report.bad_lines]})
    else:
        typer.echo("  ".join(f"{key} {value}" for key, value in summary.items()))
        for miss in misses:
            typer.echo(
                f"  line {miss['line']}: {miss['problem']}: {miss['q']}  cited {miss['cited']}, "
                f"expected {miss['expect']}, ranked {miss['ranked']}"
            )
        for bad in report.bad_lines:
            typer.secho(f"  line {bad.line}: {bad.error}", fg=typer.colors.RED, err=True)
    if report.bad_lines:
        raise typer.Exit(code=1)
