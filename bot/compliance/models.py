"""Typed boundary of the compliance guard: what callers pass in and get back."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

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
    }
)


class ProductRef(BaseModel):
    """What the guard needs to know about a catalogue product to check suitability and disclosures."""

    model_config = ConfigDict(frozen=True)

    code: str
    name: str
    name_en: str | None = None
    risk_level: str = Field(pattern=r"^R[1-5]$")
    is_wealth: bool = True  # 理财-like (not a deposit): needs the 理财非存款 disclosure


class Violation(BaseModel):
    """One breach, with the offending text quoted exactly so reviewers and trainees can see it."""

    model_config = ConfigDict(frozen=True)

    rule: RuleName
    span: str
    critical: bool


class GuardResult(BaseModel):
    """Verdict on one outgoing message; ``ok`` means no violation of any kind."""

    ok: bool
    violations: list[Violation]
    required_disclosures: list[str]
