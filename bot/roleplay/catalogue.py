"""The product shelf as the guard sees it (catalogue entries with their aliases), read from products.yml.

Only the fields suitability and mentions need are read, so role-play uses the same catalogue, aliases
and risk levels as the live bot without depending on the knowledge domain's code.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from bot.catalogue import CatalogueProduct
from bot.errors import ConfigError


def load_catalogue(products_file: Path) -> list[CatalogueProduct]:
    """Every product of products.yml (drafts included: a trainee naming one is still naming a product)."""
    try:
        raw: Any = yaml.safe_load(products_file.read_text(encoding="utf-8")) or []
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"role-play catalogue: cannot read {products_file} ({exc})") from exc
    if isinstance(raw, dict):
        raw = raw.get("products") or []
    try:
        return [CatalogueProduct.model_validate({**item, "aliases": tuple(item.get("aliases") or ())}) for item in raw]
    except (AttributeError, TypeError, ValidationError) as exc:
        raise ConfigError(f"role-play catalogue: bad product in {products_file} ({exc})") from exc
