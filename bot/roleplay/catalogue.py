"""The product shelf as the guard sees it (ProductRef), plus the short names people say aloud.

Read from the knowledge base's products.yml (only the fields suitability needs) so role-play uses the
same catalogue and risk levels as the live bot, without depending on the knowledge domain's code.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from bot.compliance import ProductRef
from bot.errors import ConfigError

_NOT_WEALTH = {"deposit", "treasury_bond", "insurance"}
ALIASES_FILE = Path(__file__).with_name("product_aliases.yml")


def load_catalogue(products_file: Path, aliases_file: Path = ALIASES_FILE) -> list[ProductRef]:
    """Catalogue products, then one extra ref per alias (same code and level) so aliases are checked too."""
    try:
        raw: Any = yaml.safe_load(products_file.read_text(encoding="utf-8")) or []
        aliases: dict[str, list[str]] = yaml.safe_load(aliases_file.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"role-play catalogue: cannot read {products_file} ({exc})") from exc
    products: list[ProductRef] = []
    try:
        for item in raw:
            products.append(
                ProductRef(
                    code=str(item["code"]),
                    name=str(item["name"]),
                    name_en=item.get("name_en"),
                    risk_level=str(item["risk_level"]),
                    is_wealth=item.get("type") not in _NOT_WEALTH,
                )
            )
    except (KeyError, TypeError, ValidationError) as exc:
        raise ConfigError(f"role-play catalogue: bad product in {products_file} ({exc})") from exc
    by_code = {p.code: p for p in products}
    for code, names in aliases.items():
        base = by_code.get(code)
        if base is None:
            raise ConfigError(f"{aliases_file.name}: alias for unknown product code {code!r}")
        products.extend(base.model_copy(update={"name": alias, "name_en": None}) for alias in names)
    return products


def mentioned(text: str, products: Sequence[ProductRef]) -> list[ProductRef]:
    """Products whose code or any name occurs in ``text`` (a cheap pre-filter before the guard)."""
    folded = text.casefold()
    return [p for p in products if any(name and name.casefold() in folded for name in (p.code, p.name, p.name_en))]
