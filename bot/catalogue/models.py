"""What the catalogue knows about a product: enough to name it, rate it and tell what kind it is."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

ProductType = Literal[
    "wealth_management",
    "mutual_fund",
    "money_market",
    "bond_fund",
    "equity_fund",
    "deposit",
    "insurance",
    "treasury_bond",
]
ProductStatus = Literal["on_sale", "closed", "suspended"]

#: 理财-like types (not deposits, not government bonds, not insurance): they need 理财非存款 and can never
#: be described as principal-protected. The one definition of "is this a wealth product".
WEALTH_TYPES: frozenset[str] = frozenset(
    {"wealth_management", "mutual_fund", "money_market", "bond_fund", "equity_fund"}
)


#: Types whose principal and stated interest the law or the state stands behind (存款保险, 国家信用): the guard
#: lets their facts stand (大额存单保本保息, 储蓄国债到期还本付息). Insurance is not one: its dividends are not
#: guaranteed, so "分红年年都有" is a claim even though insurance is no wealth product.
PROTECTED_TYPES: frozenset[str] = frozenset({"deposit", "treasury_bond"})


def is_wealth_type(product_type: str | None) -> bool:
    """Unknown types count as wealth products: the guard then errs on the side of disclosures."""
    return product_type is None or product_type in WEALTH_TYPES


class CatalogueProduct(BaseModel):
    """One product as the guard, the dialogue and role-play need it (no fees, no texts)."""

    model_config = ConfigDict(frozen=True)

    code: str
    name: str
    name_en: str | None = None
    aliases: tuple[str, ...] = ()
    type: ProductType | None = None
    risk_level: str = Field(pattern=r"^R[1-5]$")
    status: ProductStatus = "on_sale"
    is_wealth: bool = True

    @model_validator(mode="before")
    @classmethod
    def _wealth_from_type(cls, data: Any) -> Any:
        """`is_wealth` follows `type` unless given explicitly (older callers pass only `is_wealth`)."""
        if isinstance(data, dict) and data.get("is_wealth") is None:
            return {**data, "is_wealth": is_wealth_type(data.get("type"))}
        return data

    @property
    def level(self) -> int:
        """R1..R5 as 1..5."""
        return int(self.risk_level[1])

    @property
    def principal_protected(self) -> bool:
        """A deposit or a government bond; with no type, a product marked not-wealth (older callers)."""
        return self.type in PROTECTED_TYPES if self.type is not None else not self.is_wealth

    @property
    def purchasable(self) -> bool:
        return self.status == "on_sale"

    def display_name(self, language: str) -> str:
        return self.name_en if language == "en" and self.name_en else self.name
