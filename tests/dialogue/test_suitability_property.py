"""Never above the level: random client profiles × the shipped catalogue (plus generated products)."""

from __future__ import annotations

from dataclasses import dataclass, field

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.advice.service import level_number, recommend
from bot.knowledge.content import read_products
from bot.knowledge.models import Product
from bot.settings import REPO_ROOT

KB = REPO_ROOT / "knowledge_base"
CATALOGUE = [p.content for p in read_products(KB / "products.yml", KB) if isinstance(p.content, Product)]
CHANNELS = ("web", "wecom", "voice")


@dataclass
class FakeProduct:
    code: str
    risk_level: str
    status: str
    term_days: int | None
    channels: list[str] = field(default_factory=list)


generated = st.builds(
    FakeProduct,
    code=st.text("ABCDEFG0123456789", min_size=3, max_size=6),
    risk_level=st.sampled_from([f"R{i}" for i in range(1, 6)]),
    status=st.sampled_from(["on_sale", "closed", "suspended"]),
    term_days=st.one_of(st.none(), st.integers(1, 4000)),
    channels=st.lists(st.sampled_from(CHANNELS), min_size=1, max_size=3, unique=True),
)
profiles = st.fixed_dictionaries(
    {
        "client_level": st.sampled_from([f"C{i}" for i in range(1, 6)]),
        "channel": st.sampled_from(CHANNELS),
        "objective": st.one_of(st.none(), st.integers(0, 3)),
        "horizon": st.one_of(st.none(), st.integers(0, 3)),
        "limit": st.integers(1, 20),
    }
)


def test_catalogue_is_shipped_and_spans_all_levels() -> None:
    assert len(CATALOGUE) >= 15
    assert {p.risk_level for p in CATALOGUE} == {"R1", "R2", "R3", "R4", "R5"}


@settings(max_examples=400, deadline=None)
@given(profile=profiles, extra=st.lists(generated, max_size=30))
def test_never_above_level_never_closed_never_off_channel(profile: dict, extra: list[FakeProduct]) -> None:
    chosen = recommend([*CATALOGUE, *extra], **profile)
    assert len(chosen) <= profile["limit"]
    for product in chosen:
        assert level_number(product.risk_level) <= level_number(profile["client_level"])
        assert product.status == "on_sale"
        assert profile["channel"] in product.channels


@settings(max_examples=100, deadline=None)
@given(profile=profiles)
def test_every_suitable_catalogue_product_is_reachable(profile: dict) -> None:
    """The filter is not over-strict: with a big enough limit, all suitable products are offered."""
    everything = recommend(CATALOGUE, **{**profile, "limit": 1000})
    expected = {
        p.code
        for p in CATALOGUE
        if p.status == "on_sale"
        and level_number(p.risk_level) <= level_number(profile["client_level"])
        and profile["channel"] in p.channels
    }
    assert {p.code for p in everything} == expected
