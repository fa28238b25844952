"""The compliance guard: one pure function every outgoing message passes, on every channel.

Advisor-training role-play scores advisors with the same ``check`` so the bot and the humans are
held to one standard. Pure and synchronous (regexes only, no I/O), so it is safe in async handlers
and in the voice path's time budget.
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.compliance.claims import Subject, build_scene, find_claims
from bot.compliance.disclosures import missing_disclosures
from bot.compliance.levels import level_in, parse_client_level
from bot.compliance.models import CRITICAL_RULES, GuardResult, ProductRef, Recommended, Violation
from bot.compliance.rules import load_rules
from bot.compliance.suitability import find_mentions, find_recommendations, rated_mentions, suitability_hits
from bot.compliance.text import normalize
from bot.language import Language, detect_language


def _language(text: str, given: Language | None) -> Language:
    """The language to judge `text` in: as given, else as written; a text with no words is judged in English."""
    return given or detect_language(text) or "en"


def check(
    text: str,
    *,
    language: Language | None = None,
    client_risk_level: str | None = None,
    products: Sequence[ProductRef] = (),
    require_disclosures: bool = True,
) -> GuardResult:
    """Judge one message; ``ok`` only when it has no violation at all (append disclosures, then re-check).

    Raises ValueError for a malformed ``client_risk_level``: a caller bug must not pass silently.
    """
    rules = load_rules()
    client_level = parse_client_level(client_risk_level)
    normalized = normalize(text)
    lang = _language(text, language)
    mentions = find_mentions(normalized.text, products)
    scene = build_scene(
        normalized, rules.context, products=[Subject(m.start, m.end, m.product.principal_protected) for m in mentions]
    )

    found: list[tuple[int, Violation]] = []
    for hit in find_claims(scene, rules):
        span = normalized.original_span(hit.sentence.start, hit.sentence.end)
        found.append((hit.position, _violation(hit.rule, span)))
    recommended = find_recommendations(scene, rules, mentions)
    if client_level is not None:
        # The text's own word on the client's level counts when it is lower ("您是保守型，推荐您…"); a
        # catalogue name (保守型客户专享…) is blanked in the scene, so it is never read as her level.
        told = level_in(scene.text, rules)
        client_level = min(client_level, int(told[1])) if told else client_level
        recommended += find_recommendations(scene, rules, rated_mentions(scene, rules, mentions))
    for rule, rec in suitability_hits(recommended, client_level):
        span = normalized.original_span(rec.sentence.start, rec.sentence.end)
        found.append((rec.position, _violation(rule, span)))

    required: list[str] = []
    if require_disclosures:
        for missing in missing_disclosures(normalized.text, rules, mentions, lang):
            found.append(
                (
                    missing.start,
                    _violation(missing.rule, normalized.original_span(missing.start, missing.end)),
                )
            )
            required.append(missing.sentence)

    violations: list[Violation] = []
    for _, violation in sorted(found, key=lambda item: item[0]):
        if violation not in violations:
            violations.append(violation)
    return GuardResult(ok=not violations, violations=violations, required_disclosures=required)


def recommended(text: str, *, products: Sequence[ProductRef] = ()) -> list[Recommended]:
    """Catalogue products ``text`` recommends, each with the sentence that does it (the suitability rule's
    own reading, so role-play judges a recommendation exactly where the guard would)."""
    rules = load_rules()
    normalized = normalize(text)
    mentions = find_mentions(normalized.text, products)
    scene = build_scene(
        normalized, rules.context, products=[Subject(m.start, m.end, m.product.principal_protected) for m in mentions]
    )
    return [
        Recommended(product=rec.product, span=normalized.original_span(rec.sentence.start, rec.sentence.end))
        for rec in find_recommendations(scene, rules, mentions)
    ]


def disclosures_for(text: str, *, language: Language | None = None, products: Sequence[ProductRef] = ()) -> list[str]:
    """Disclosure sentences ``text`` still needs, in its language, ready to append."""
    rules = load_rules()
    normalized = normalize(text)
    mentions = find_mentions(normalized.text, products)
    lang = _language(text, language)
    return [m.sentence for m in missing_disclosures(normalized.text, rules, mentions, lang)]


def _violation(rule: str, span: str) -> Violation:
    # model_validate checks the rule name against RuleName at runtime (rule names come from rules.yml).
    return Violation.model_validate({"rule": rule, "span": span, "critical": rule in CRITICAL_RULES})
