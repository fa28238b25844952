"""The knowledge base's view of the compliance guard (bot.compliance): disclosures and checks.

A small seam so answers are built against one interface; the real guard is pure and fast, so
tests use it as is.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from bot.compliance import GuardResult, ProductRef, check, disclosures_for
from bot.knowledge.models import Product
from bot.language import Language


class Guard(Protocol):
    """Checks outgoing text and says which disclosures it needs."""

    def check(
        self, text: str, *, language: Language, client_risk_level: str | None, products: Sequence[Product]
    ) -> GuardResult: ...

    def disclosures(
        self, text: str, *, language: Language, products: Sequence[Product], about: Sequence[Product] = ()
    ) -> list[str]: ...


def product_ref(product: Product) -> ProductRef:
    return product.entry()


class ComplianceGuard:
    """bot.compliance, with our Product converted to its ProductRef."""

    def check(
        self, text: str, *, language: Language, client_risk_level: str | None, products: Sequence[Product]
    ) -> GuardResult:
        try:
            return check(
                text,
                language=language,
                client_risk_level=client_risk_level,
                products=[product_ref(p) for p in products],
            )
        except ValueError:
            # A malformed risk level (not C1-C5) must not crash a turn: judge as if unknown.
            return check(text, language=language, products=[product_ref(p) for p in products])

    def disclosures(
        self, text: str, *, language: Language, products: Sequence[Product], about: Sequence[Product] = ()
    ) -> list[str]:
        """Wording `text` still needs. `products` is the catalogue (mentions are found by name);
        the names of the products the answer is `about` are prepended, so a quoted passage that
        never names its product still triggers 理财非存款、产品有风险、投资须谨慎."""
        names = "、".join(p.name if language == "zh" else (p.name_en or p.name) for p in about)
        subject = f"{names}\n{text}" if names else text
        refs = {p.code: product_ref(p) for p in [*products, *about]}
        return disclosures_for(subject, language=language, products=list(refs.values()))
