"""`advisor compliance check "TEXT" --json [--risk-level C3]` (a contract) and the guard's evaluation."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from bot.compliance.evaluation import LABELLED_SETS, report
from bot.compliance.models import ProductRef
from bot.compliance.service import check, detect_language
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
) -> None:
    """Check TEXT: {"ok": bool, "violations": [{"rule", "span"}]}."""
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
    payload = {
        "ok": result.ok,
        "violations": [{"rule": v.rule, "span": v.span, "critical": v.critical} for v in result.violations],
        "required_disclosures": result.required_disclosures,
    }
    if as_json:
        typer.echo(json.dumps(payload, ensure_ascii=False))
        return
    typer.echo("OK" if result.ok else "VIOLATIONS")
    for v in result.violations:
        typer.echo(f"  [{v.rule}{' critical' if v.critical else ''}] {v.span}")


@compliance_app.command("evaluate")
def evaluate_sets(
    paths: Annotated[
        list[Path] | None, typer.Argument(exists=True, help="Labelled sets (default: the project's two).")
    ] = None,
    dev_errors: Annotated[bool, typer.Option("--dev-errors", help="Also list the dev split's wrong items.")] = False,
) -> None:
    """Recall / false-positive rate per labelled set, dev and holdout apart, per kind (JSON)."""
    result = report(paths or LABELLED_SETS, dev_errors=dev_errors)
    typer.echo(json.dumps(result, ensure_ascii=False, indent=2))
