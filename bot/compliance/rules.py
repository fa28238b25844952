"""Load ``rules.yml`` once into compiled, typed rule objects.

Word lists are data (reviewed by compliance staff, changed without touching code); this module only
expands macros, compiles, and fails loudly on a malformed file so a bad edit never ships silently.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml

from bot.errors import ConfigError

RULES_PATH = Path(__file__).with_name("rules.yml")
# ASCII word semantics: CJK characters are not \w, so `\bguaranteed\b` also matches in 是guaranteed的.
_FLAGS = re.IGNORECASE | re.ASCII
#: Rules `claims:` may define: forbidden wording (第二十五条) and abuse of the risk assessment (第二十五条(八)).
CLAIM_RULES = frozenset(
    {
        "guarantee",
        "certain_return",
        "deposit_confusion",
        "exaggeration",
        "expected_return",
        "sale_before_assessment",
        "assessment_coaching",
    }
)
FrameScope = Literal["clause", "sentence", "window"]
_SCOPES: tuple[FrameScope, ...] = ("clause", "sentence", "window")


class RulesFileError(ConfigError):
    """rules.yml is missing a key or holds a regex that does not compile."""


@dataclass(frozen=True, slots=True)
class Pattern:
    """One claim pattern; ``unless_text`` drops the match when found anywhere in the message."""

    regex: re.Pattern[str]
    unless_text: re.Pattern[str] | None = None


@dataclass(frozen=True, slots=True)
class Part:
    """One part of a frame, looked for within the frame's scope unless it names its own."""

    regex: re.Pattern[str]
    scope: FrameScope | None = None


@dataclass(frozen=True, slots=True)
class Frame:
    """A claim made of parts: the ``claim`` words, with other words nearby that make them a claim.

    ``with_`` parts must each be asserted (not negated, questioned, quoted) within the scope,
    ``near`` parts need only occur there, and any ``unless`` part there cancels the frame; a part may
    name a scope of its own (a target in the claim's clause, a topic in the window). With
    ``about: wealth`` the sentence must also name a wealth product (catalogue name or generic word).
    ``examples`` (hit / pass) document the frame and are run by the tests.
    """

    name: str
    scope: FrameScope
    claim: re.Pattern[str]
    with_: tuple[Part, ...] = ()
    near: tuple[Part, ...] = ()
    unless: tuple[Part, ...] = ()
    about_wealth: bool = False  # the sentence must name a wealth product (by catalogue or word)
    examples: dict[str, tuple[str, ...]] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ClaimRule:
    """A forbidden-claim rule (guarantee, certain_return, ...): keyword patterns and frames."""

    name: str
    critical: bool
    deposit_exempt: bool
    patterns: tuple[Pattern, ...]
    supersedes: frozenset[str] = frozenset()  # weaker rules not reported for the same sentence
    frames: tuple[Frame, ...] = ()


@dataclass(frozen=True, slots=True)
class Context:
    """Patterns that decide whether a keyword hit is really our claim (negation, questions, quotes)."""

    adjacent_negation: re.Pattern[str]
    windows: tuple[tuple[int, re.Pattern[str]], ...]
    negative_list: re.Pattern[str]
    undecided: re.Pattern[str]
    reassurance: re.Pattern[str]
    contrast: re.Pattern[str]
    post_chars: int
    post: re.Pattern[str]
    scope_verbs: re.Pattern[str]
    reported: re.Pattern[str]
    refutation: re.Pattern[str]
    warning: re.Pattern[str]
    rhetorical: re.Pattern[str]
    topic_question: re.Pattern[str]
    open_amount: re.Pattern[str]
    denied_after: re.Pattern[str]
    quote_before: re.Pattern[str]
    quote_after: re.Pattern[str]
    quote_chain: re.Pattern[str]
    deposit_terms: re.Pattern[str]
    deposit_after: re.Pattern[str]
    not_subject: re.Pattern[str]
    wealth_terms: re.Pattern[str]
    pronoun: re.Pattern[str]


@dataclass(frozen=True, slots=True)
class Disclosure:
    """A required disclosure: when it is triggered, its wording, and how to recognise it."""

    name: str
    text: dict[str, str]
    mention: re.Pattern[str]
    present: dict[str, tuple[re.Pattern[str], ...]]


@dataclass(frozen=True, slots=True)
class Levels:
    """Investor levels in words (C1..C5) and what negates a level a client states (不敢碰激进的)."""

    names: dict[str, int]  # 稳健 -> 2, balanced -> 3 (folded)
    words: dict[int, re.Pattern[str]]
    negation: re.Pattern[str]
    product: re.Pattern[str]  # a product named only by its rating (这款R4的产品, an R4 fund)
    product_words: dict[int, re.Pattern[str]]  # ...or by its risk in words (中高风险的产品) -> 4


@dataclass(frozen=True, slots=True)
class RuleSet:
    """Everything the guard needs, compiled."""

    claims: tuple[ClaimRule, ...]
    context: Context
    recommendation: re.Pattern[str]
    declines: re.Pattern[str]  # a sentence that turns products down (超出您的等级, not suitable for you)
    risk: Disclosure
    performance: Disclosure
    levels: Levels
    outcome: re.Pattern[str]  # outcome words: what a second opinion looks for in text the rules pass


def _alternatives(value: Any) -> str:
    """A regex written as a list (one alternative per line, for reviewers) is their alternation."""
    if isinstance(value, list):
        return "|".join(f"(?:{item})" for item in value)
    return str(value)


def _expand(macros: dict[str, str]) -> dict[str, str]:
    """Macros may use earlier macros (<CERTAIN> inside <CERTAIN_CLAIM>); expand them once, in order.

    Each is wrapped in a group, so a macro written as alternatives stays one unit wherever it is used
    ('(?:能|会)<RATE>' must not read as '(?:能|会)<first alternative>|<second alternative>').
    """
    expanded: dict[str, str] = {}
    for name, value in macros.items():
        for earlier, body in expanded.items():
            value = value.replace(f"<{earlier}>", body)
        expanded[name] = f"(?:{value})"
    return expanded


def _compile(source: str, macros: dict[str, str], where: str) -> re.Pattern[str]:
    for name, value in macros.items():
        source = source.replace(f"<{name}>", value)
    if re.search(r"<[A-Z][A-Z_]+>", source):
        raise RulesFileError(f"{RULES_PATH.name}: unknown macro at {where}: {re.findall(r'<[A-Z][A-Z_]+>', source)}")
    try:
        return re.compile(source, _FLAGS)
    except re.error as exc:
        raise RulesFileError(f"{RULES_PATH.name}: bad regex at {where}: {exc}") from exc


def _pattern(raw: Any, macros: dict[str, str], where: str) -> Pattern:
    if isinstance(raw, str):
        return Pattern(_compile(raw, macros, where))
    if isinstance(raw, dict) and isinstance(raw.get("re"), str):
        unless = raw.get("unless_text")
        return Pattern(
            _compile(raw["re"], macros, where),
            _compile(unless, macros, f"{where}.unless_text") if isinstance(unless, str) else None,
        )
    raise RulesFileError(f"{RULES_PATH.name}: {where} must be a regex string or {{re: ..., unless_text: ...}}")


def _frame(name: str, raw: dict[str, Any], macros: dict[str, str], where: str) -> Frame:
    scope = raw.get("scope", "clause")
    if scope not in _SCOPES:
        raise RulesFileError(f"{RULES_PATH.name}: {where}.scope must be one of {_SCOPES}, got {scope!r}")

    def part(item: Any, at: str) -> Part:
        if isinstance(item, dict):
            own = item.get("scope")
            if own not in _SCOPES:
                raise RulesFileError(f"{RULES_PATH.name}: {at}.scope must be one of {_SCOPES}, got {own!r}")
            return Part(_compile(_alternatives(item.get("re")), macros, at), own)
        return Part(_compile(_alternatives(item), macros, at))

    def parts(key: str) -> tuple[Part, ...]:
        return tuple(part(p, f"{where}.{key}[{i}]") for i, p in enumerate(raw.get(key) or ()))

    examples = raw.get("examples") or {}
    return Frame(
        name=name,
        scope=scope,
        claim=_compile(_alternatives(raw["claim"]), macros, f"{where}.claim"),
        with_=parts("with"),
        near=parts("near"),
        unless=parts("unless"),
        about_wealth=raw.get("about") == "wealth",
        examples={kind: tuple(str(t) for t in examples.get(kind) or ()) for kind in ("hit", "pass")},
    )


def _levels(raw: dict[str, Any], macros: dict[str, str]) -> Levels:
    return Levels(
        names={str(name).casefold(): int(level[1]) for level, names in raw["names"].items() for name in names},
        words={
            int(level[1]): _compile(pattern, macros, f"levels.words.{level}") for level, pattern in raw["words"].items()
        },
        negation=_compile(raw["negation"], macros, "levels.negation"),
        product=_compile(raw["product"], macros, "levels.product"),
        product_words={
            int(level[1]): _compile(_alternatives(pattern), macros, f"levels.product_words.{level}")
            for level, pattern in raw["product_words"].items()
        },
    )


def _disclosure(name: str, raw: dict[str, Any], macros: dict[str, str]) -> Disclosure:
    where = f"disclosures.{name}"
    return Disclosure(
        name=name,
        text={"zh": str(raw["zh"]), "en": str(raw["en"])},
        mention=_compile(raw["mention"], macros, f"{where}.mention"),
        present={
            lang: tuple(_compile(p, macros, f"{where}.present.{lang}") for p in raw["present"][lang])
            for lang in ("zh", "en")
        },
    )


def parse_rules(data: dict[str, Any]) -> RuleSet:
    """Build a RuleSet from the parsed YAML mapping (split out so tests can feed variants)."""
    try:
        macros = _expand({str(k): _alternatives(v) for k, v in data.get("macros", {}).items()})
        ctx = data["context"]

        def c(key: str) -> re.Pattern[str]:
            return _compile(ctx[key], macros, f"context.{key}")

        context = Context(
            adjacent_negation=c("adjacent_negation"),
            windows=tuple(
                (int(w["chars"]), _compile(w["re"], macros, f"context.windows[{i}]"))
                for i, w in enumerate(ctx["windows"])
            ),
            negative_list=c("negative_list"),
            undecided=c("undecided"),
            reassurance=c("reassurance"),
            contrast=c("contrast"),
            post_chars=int(ctx["post_chars"]),
            post=c("post"),
            scope_verbs=c("scope_verbs"),
            reported=c("reported"),
            refutation=c("refutation"),
            warning=c("warning"),
            rhetorical=c("rhetorical"),
            topic_question=c("topic_question"),
            open_amount=c("open_amount"),
            denied_after=c("denied_after"),
            quote_before=c("quote_before"),
            quote_after=c("quote_after"),
            quote_chain=c("quote_chain"),
            deposit_terms=c("deposit_terms"),
            deposit_after=c("deposit_after"),
            not_subject=c("not_subject"),
            wealth_terms=c("wealth_terms"),
            pronoun=c("pronoun"),
        )
        claims = tuple(
            ClaimRule(
                name=name,
                critical=bool(spec["critical"]),
                deposit_exempt=bool(spec.get("deposit_exempt", False)),
                patterns=tuple(
                    _pattern(p, macros, f"claims.{name}.patterns[{i}]")
                    for i, p in enumerate(spec.get("patterns") or ())
                ),
                supersedes=frozenset(spec.get("supersedes", [])),
                frames=tuple(
                    _frame(frame, raw, macros, f"claims.{name}.frames.{frame}")
                    for frame, raw in (spec.get("frames") or {}).items()
                ),
            )
            for name, spec in data["claims"].items()
        )
        unknown = {rule.name for rule in claims}.union(*(rule.supersedes for rule in claims)) - CLAIM_RULES
        if unknown:
            raise RulesFileError(
                f"{RULES_PATH.name}: unknown claim rules {sorted(unknown)}; expected {sorted(CLAIM_RULES)}"
            )
        return RuleSet(
            claims=claims,
            context=context,
            recommendation=_compile(_alternatives(data["recommendation"]["markers"]), macros, "recommendation.markers"),
            declines=_compile(_alternatives(data["recommendation"]["declines"]), macros, "recommendation.declines"),
            risk=_disclosure("risk", data["disclosures"]["risk"], macros),
            performance=_disclosure("performance", data["disclosures"]["performance"], macros),
            levels=_levels(data["levels"], macros),
            outcome=_compile(data["second_opinion"]["outcome"], macros, "second_opinion.outcome"),
        )
    except (KeyError, TypeError) as exc:
        raise RulesFileError(f"{RULES_PATH.name}: missing or malformed key: {exc}") from exc


@functools.cache
def load_rules() -> RuleSet:
    """The packaged rule set, parsed once per process."""
    with RULES_PATH.open(encoding="utf-8") as handle:
        return parse_rules(yaml.safe_load(handle))
