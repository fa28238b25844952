"""`advisor compliance check "TEXT" --json [--risk-level C3]` (a contract) and the guard's evaluation."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Annotated

import typer

from bot.compliance.evaluation import LABELLED_SETS, SPLITS, report, table
from bot.compliance.models import GuardResult, ProductRef
from bot.compliance.second_opinion import Opinion, second_opinion_from_settings
from bot.compliance.service import check
from bot.language import detect_language
from bot.settings import get_settings

compliance_app = typer.Typer(help="The compliance guard every reply passes.", no_args_is_help=True)


def catalogue_refs() -> list[ProductRef]:
    """The product catalogue as the guard needs it (for product mentions and suitability)."""
    from bot.knowledge.content import read_products
    from bot.knowledge.guard import product_ref
    from bot.knowledge.models import Product

    source = get_settings().knowledge.source_dir
    path = source / "products.yml"
    if not path.exists():
        return []
    return [product_ref(p.content) for p in read_products(path, source) if isinstance(p.content, Product)]


@compliance_app.command("check")
def check_text(
    text: Annotated[str, typer.Argument(help="The text to check.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    risk_level: Annotated[str | None, typer.Option("--risk-level", help="The client's level, C1..C5.")] = None,
    disclosures: Annotated[bool, typer.Option(help="Also require the disclosures.")] = True,
    second_opinion: Annotated[
        bool, typer.Option("--second-opinion", help="Ask the configured LLM about text the rules pass.")
    ] = False,
) -> None:
    """Check TEXT: {"ok": bool, "violations": [{"rule", "span"}]} (+ "second_opinion" when asked)."""
    try:
        result = check(
            text,
            language=detect_language(text),
            client_risk_level=risk_level,
            products=catalogue_refs(),
            require_disclosures=disclosures,
        )
    except ValueError as exc:
        typer.secho(f"error: {exc}", fg="red", err=True)
        raise typer.Exit(2) from exc
    payload: dict[str, object] = {
        "ok": result.ok,
        "violations": [{"rule": v.rule, "span": v.span, "critical": v.critical} for v in result.violations],
        "required_disclosures": result.required_disclosures,
    }
    if second_opinion:
        opinion = _second_opinion(text, result)
        payload["second_opinion"] = opinion
        payload["ok"] = result.ok and opinion["outcome"] != "violation"
    if as_json:
        typer.echo(json.dumps(payload, ensure_ascii=False))
        return
    typer.echo("OK" if payload["ok"] else "VIOLATIONS")
    for v in result.violations:
        typer.echo(f"  [{v.rule}{' critical' if v.critical else ''}] {v.span}")
    if second_opinion:
        typer.echo(f"  second opinion: {payload['second_opinion']}")


def _second_opinion(text: str, result: GuardResult) -> dict[str, str | None]:
    """The LLM's review of TEXT when the rules pass it and it speaks of outcomes (audited)."""
    from bot.knowledge.llm import judging_chat

    settings = get_settings()
    forced = settings.model_copy(update={"compliance": settings.compliance.model_copy(update={"second_opinion": True})})
    reviewer = second_opinion_from_settings(forced, chat=lambda: judging_chat(settings.llm))
    if reviewer is None:
        typer.secho("error: --second-opinion needs an LLM (set llm.provider)", fg="red", err=True)
        raise typer.Exit(2)

    async def run() -> Opinion | None:
        try:
            return await reviewer.review(text, source="cli")
        finally:
            await reviewer.aclose()

    if not reviewer.wanted(text, result):
        asyncio.run(reviewer.aclose())
        return {"outcome": "not_needed"}
    opinion = asyncio.run(run())
    if opinion is None:
        return {"outcome": "unavailable"}
    return {"outcome": "violation" if opinion.violation else "ok", "rule": opinion.rule, "reason": opinion.reason}


@compliance_app.command("evaluate")
def evaluate_sets(
    paths: Annotated[
        list[Path] | None, typer.Argument(exists=True, help="Labelled sets (default: the project's four).")
    ] = None,
    dev_errors: Annotated[bool, typer.Option("--dev-errors", help="Also list the dev split's wrong items.")] = False,
    dev_only: Annotated[bool, typer.Option("--dev-only", help="Check dev splits only (for tuning).")] = False,
    as_table: Annotated[bool, typer.Option("--table", help="Headline figures, one column per set.")] = False,
) -> None:
    """Recall / false-positive rate per labelled set, one column per split, per kind (JSON)."""
    result = report(paths or LABELLED_SETS, dev_errors=dev_errors, splits=("dev",) if dev_only else SPLITS)
    typer.echo(table(result) if as_table else json.dumps(result, ensure_ascii=False, indent=2))
