"""The product in focus: pointing words resolved from the live catalogue, comparisons with both products."""

from __future__ import annotations

import pytest

from bot.catalogue import Catalogue, CatalogueProduct
from bot.dialogue.focus import plain, remember, resolve

# A bank of our own (not the demo): names and aliases only the catalogue knows.
CATALOGUE = Catalogue(
    [
        CatalogueProduct(code="AX1", name="澄江银行稳盈60天持有期理财产品", name_en="Wenying 60-Day",
                         aliases=("稳盈60", "Wenying"), risk_level="R2"),
        CatalogueProduct(code="AX2", name="澄江银行安泰现金管理类理财产品", name_en="Antai Cash",
                         aliases=("安泰", "Antai"), risk_level="R1"),
    ]
)  # fmt: skip


@pytest.mark.parametrize(
    ("text", "focus", "question", "kept"),
    [
        ("它保本吗", ["AX1"], "稳盈60保本吗", ("AX1",)),
        ("这款多久能赎回", ["AX1", "AX2"], "稳盈60多久能赎回", ("AX1",)),
        ("那现在还能买吗", ["AX2"], "安泰现在还能买吗", ("AX2",)),
        ("哪个收益高", ["AX1", "AX2"], "稳盈60和安泰哪个收益高", ()),
        ("is it principal protected", ["AX2"], "is Antai principal protected", ("AX2",)),
        ("how is it different from Wenying", ["AX2"], "how is Antai different from Wenying", ()),
        ("安泰起购多少", ["AX1"], "安泰起购多少", ()),  # a product named wins
        ("国庆能赎回吗", ["AX1"], "国庆能赎回吗", ()),  # its own topic: asked as it stands
        ("它保本吗", [], "它保本吗", ()),  # nothing in play: nothing to resolve
    ],
)
def test_follow_ups_are_made_standalone(text: str, focus: list[str], question: str, kept: tuple[str, ...]) -> None:
    resolved = resolve(text, focus, CATALOGUE, "en" if text.isascii() else "zh")
    assert (resolved.question, resolved.focus) == (question, kept)


def test_focus_keeps_the_latest_products_first() -> None:
    assert remember(["AX1", "AX2"], ["AX2"]) == ["AX2", "AX1"]
    assert remember(["A", "B", "C"], ["D"]) == ["D", "A", "B"]


def test_filler_words_are_dropped_for_a_second_try_but_not_inside_words() -> None:
    assert plain("我的银行卡限额是多少") == "银行卡限额是多少"
    assert plain("请问 那个 赎回多久到账啊") == "赎回多久到账"
