"""The product catalogue as every domain sees it: names, aliases, types and risk levels.

One home for "which product does this text name" and "is this a wealth product", shared by retrieval,
the dialogue, the compliance guard and role-play. It depends on nothing of ours but pydantic.
"""

from bot.catalogue.matching import Catalogue, Mention, catalogue_for, fold
from bot.catalogue.models import (
    PROTECTED_TYPES,
    WEALTH_TYPES,
    CatalogueProduct,
    ProductStatus,
    ProductType,
    is_wealth_type,
)

__all__ = [
    "PROTECTED_TYPES",
    "WEALTH_TYPES",
    "Catalogue",
    "CatalogueProduct",
    "Mention",
    "ProductStatus",
    "ProductType",
    "catalogue_for",
    "fold",
    "is_wealth_type",
]
