"""Which products may be suggested to a client, and in what order.

Suitability is a hard filter (never relaxed by ranking): status on_sale, product risk R-n at or below
the client's C-n, and the product is distributed on the channel. Ranking then fits the stated
objective and horizon from the risk pre-assessment.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Protocol, TypeVar

# Option index (0-3) of the questionnaire's objective and horizon questions (bot/kyc/questionnaire.yml).
_HORIZON_DAYS = (365, 3 * 365, 5 * 365, 100 * 365)
# Objective → the product risk the client is aiming at (as a share of their allowed level) and whether
# quick access matters: liquidity, steady growth, balance, higher returns.
_OBJECTIVE_TARGET = (0.0, 0.4, 0.7, 1.0)


class ProductLike(Protocol):
    """What suitability needs of a product (read-only, so catalogue models and test fakes both fit)."""

    @property
    def code(self) -> str: ...
    @property
    def risk_level(self) -> str: ...
    @property
    def status(self) -> str: ...
    @property
    def channels(self) -> Sequence[str]: ...
    @property
    def term_days(self) -> int | None: ...


P = TypeVar("P", bound=ProductLike)


def level_number(level: str) -> int:
    """'C3' or 'R3' → 3."""
    return int(level[1])


def is_suitable(product: ProductLike, *, client_level: str, channel: str) -> bool:
    """The hard rule: on sale, not above the client's level, allowed on this channel."""
    return (
        product.status == "on_sale"
        and level_number(product.risk_level) <= level_number(client_level)
        and channel in product.channels
    )


def recommend(
    products: Iterable[P],
    *,
    client_level: str,
    channel: str,
    objective: int | None = None,
    horizon: int | None = None,
    limit: int = 3,
) -> list[P]:
    """Suitable products, best fit first."""
    allowed = level_number(client_level)
    candidates = [p for p in products if is_suitable(p, client_level=client_level, channel=channel)]
    target = 1 + (allowed - 1) * _OBJECTIVE_TARGET[objective if objective is not None else 1]
    max_days = _HORIZON_DAYS[horizon] if horizon is not None else None

    def fit(product: P) -> tuple[float, str]:
        risk_gap = abs(level_number(product.risk_level) - target)
        term = product.term_days
        too_long = 1.5 if max_days is not None and term is not None and term > max_days else 0.0
        wants_access = objective == 0 and term is not None and term > 30
        return (risk_gap + too_long + (1.0 if wants_access else 0.0), product.code)

    return sorted(candidates, key=fit)[:limit]


def unsuitable_codes(products: Sequence[ProductLike], *, client_level: str, channel: str) -> set[str]:
    """Codes that must never be suggested to this client on this channel."""
    return {p.code for p in products if not is_suitable(p, client_level=client_level, channel=channel)}
