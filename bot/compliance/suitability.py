"""Suitability (适当性): never recommend a product rated above the client's level (第二十五条(一)).

A product counts as recommended when a catalogue product (by any of its names or aliases) sits in
a sentence with a recommendation marker that is not negated or questioned, unless the product's own
clause turns it down (稳进成长不适合您，建议您考虑稳享30天 recommends only the second); in a sentence that
turns products down (超出您的等级, not suitable for you) only a marker in a product's own clause recommends
it. A product named only by its rating ("这款R4的产品我强烈推荐", "中高风险的产品") is judged too when the
client's level is known. Deposits and government bonds need no risk assessment, so recommending one
while the level is unknown is no breach.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bot.catalogue import catalogue_for
from bot.compliance.claims import Scene, is_neutralised
from bot.compliance.levels import rated_products
from bot.compliance.models import ProductRef
from bot.compliance.rules import RuleSet
from bot.compliance.text import Segment, clauses


@dataclass(frozen=True, slots=True)
class Mention:
    """Where a catalogue product is named in the normalised text."""

    product: ProductRef
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class Recommendation:
    """A product the text recommends, with the sentence that does it."""

    product: ProductRef
    sentence: Segment
    position: int


def product_level(product: ProductRef) -> int:
    """R1..R5 as 1..5 (validated by ProductRef)."""
    return int(product.risk_level[1])


def find_mentions(text: str, products: Sequence[ProductRef]) -> list[Mention]:
    """Every place a catalogue product is named: code, Chinese or English name, alias or short name."""
    return [Mention(m.product, m.start, m.end) for m in catalogue_for(tuple(products)).find(text)]


def rated_mentions(scene: Scene, rules: RuleSet, mentions: Sequence[Mention]) -> list[Mention]:
    """Products named only by their rating, outside sentences that name a catalogue product (there
    the rating describes that product)."""
    named = {scene.sentence_index(m.start) for m in mentions}
    return [
        Mention(ProductRef(code=f"R{r.level}", name=f"R{r.level}", risk_level=f"R{r.level}"), r.start, r.end)
        for r in rated_products(scene.text, rules)
        if scene.sentence_index(r.start) not in named
    ]


def _region(scene: Scene, index: int) -> Segment:
    """The sentence, extended over the following lines when it ends with a colon (a list follows)."""
    sentence = scene.sentences[index]
    end = sentence.end
    if scene.text[sentence.start : sentence.end].rstrip().endswith(":"):
        for following in scene.sentences[index + 1 :]:
            if not scene.text[following.start : following.end].strip():
                break
            end = following.end
    return Segment(sentence.start, end)


def find_recommendations(scene: Scene, rules: RuleSet, mentions: Sequence[Mention]) -> list[Recommendation]:
    """Products the text recommends (a marker in the same sentence that the text asserts)."""
    context = rules.context
    found: dict[tuple[str, int], Recommendation] = {}
    for index in range(len(scene.sentences)):
        region = _region(scene, index)
        markers = list(rules.recommendation.finditer(scene.text, region.start, region.end))
        active = [m for m in markers if not is_neutralised(scene, context, m.start(), m.end())]
        if not active:
            continue
        declined = [m for m in markers if m not in active]
        turned_down = any(
            not is_neutralised(scene, context, d.start(), d.end())
            for d in rules.declines.finditer(scene.text, region.start, region.end)
        )
        parts = clauses(scene.text, region)
        for mention in mentions:
            if not region.start <= mention.start < region.end:
                continue
            clause = next((c for c in parts if c.start <= mention.start < c.end), region)
            in_clause = [m for m in markers if clause.start <= m.start() < clause.end]
            if (in_clause or turned_down) and all(m in declined for m in in_clause):
                continue
            key = (mention.product.code, region.start)
            found.setdefault(key, Recommendation(mention.product, scene.sentences[index], mention.start))
    return sorted(found.values(), key=lambda r: r.position)


def suitability_hits(
    recommendations: Sequence[Recommendation], client_level: int | None
) -> list[tuple[str, Recommendation]]:
    """(rule, recommendation) for each recommendation the client's level does not allow."""
    if client_level is None:
        return [("risk_level_unknown", rec) for rec in recommendations if rec.product.is_wealth]
    return [("suitability", rec) for rec in recommendations if product_level(rec.product) > client_level]
