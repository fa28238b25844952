"""Typed boundary of the compliance guard: what callers pass in and get back."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

from bot.catalogue import CatalogueProduct

RuleName = Literal[
    "guarantee",
    "certain_return",
    "deposit_confusion",
    "exaggeration",
    "expected_return",
    "missing_risk_disclosure",
    "missing_performance_disclaimer",
    "suitability",
    "risk_level_unknown",
    "sale_before_assessment",
    "assessment_coaching",
]

#: Rules that make a message unsendable on their own (销售管理暂行办法 第二十五条 (一)(二)(四)(九)).
CRITICAL_RULES: frozenset[str] = frozenset(
    {
        "guarantee",
        "certain_return",
        "deposit_confusion",
        "expected_return",
        "suitability",
        "risk_level_unknown",
        "sale_before_assessment",
        "assessment_coaching",
    }
)


#: What the guard needs to know about a product (names and aliases for mentions, level for suitability,
#: type for disclosures and the deposit/bond exemptions): the catalogue's own view, not a copy.
ProductRef = CatalogueProduct


class Violation(BaseModel):
    """One breach, with the offending text quoted exactly so reviewers and trainees can see it."""

    model_config = ConfigDict(frozen=True)

    rule: RuleName
    span: str
    critical: bool


class Recommended(BaseModel):
    """A catalogue product a text recommends, with the sentence that does it."""

    model_config = ConfigDict(frozen=True)

    product: ProductRef
    span: str


class GuardResult(BaseModel):
    """Verdict on one outgoing message; ``ok`` means no violation of any kind."""

    ok: bool
    violations: list[Violation]
    required_disclosures: list[str]
