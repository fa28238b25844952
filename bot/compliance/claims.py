"""Forbidden-claim detection: keyword hits from rules.yml, kept only when the text really makes the claim.

A bare keyword match would flag the disclaimers the regulation itself requires (本产品不保本,
returns are not guaranteed) and the client's own questions quoted back. So each hit is checked
against its context: negation before it (within its clause, reset by 但/but), a refutation after it,
question sentences, quotations of someone else's words, hearsay that is refuted, and, for guarantee
and deposit wording, whether the subject is a real deposit (大额存单保本保息 is a fact, not a claim).
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass

from bot.compliance.rules import Context, RuleSet
from bot.compliance.text import Normalized, Segment, clause_start, is_question, quoted, sentences

# Context is read from a bounded look-back so one huge unpunctuated message stays linear, not quadratic.
_LOOKBACK = 120


@dataclass(frozen=True, slots=True)
class Hit:
    """A confirmed claim: rule, position in normalised text, and the sentence it sits in."""

    rule: str
    critical: bool
    position: int
    sentence: Segment


@dataclass(frozen=True, slots=True)
class Scene:
    """Per-message facts shared by all rules: sentences, masked quotes, and subject vocabularies."""

    text: str
    sentences: tuple[Segment, ...]
    masked: tuple[Segment, ...]
    wealth_names: tuple[str, ...]
    deposit_names: tuple[str, ...]
    starts: tuple[int, ...]

    def sentence_index(self, position: int) -> int:
        """Index of the sentence holding ``position`` (the last one starting at or before it)."""
        return max(0, bisect_right(self.starts, position) - 1)

    def is_masked(self, position: int) -> bool:
        """True inside a quotation of someone else's words."""
        return any(seg.start <= position < seg.end for seg in self.masked)


def build_scene(
    normalized: Normalized,
    context: Context,
    *,
    wealth_names: Sequence[str] = (),
    deposit_names: Sequence[str] = (),
) -> Scene:
    """Segment the message once and find the quotations that are not our own claims."""
    text = normalized.text
    masked: list[Segment] = []
    for whole, inner in quoted(text):
        content = text[inner.start : inner.end].rstrip(" .!。")
        before = text[max(0, whole.start - 14) : whole.start]
        after = text[whole.end : whole.end + 14]
        if (
            content.endswith(("?", "吗", "呢"))
            or context.quote_before.search(before)
            or context.quote_after.search(after)
        ):
            masked.append(inner)
    segs = tuple(sentences(text)) or (Segment(0, len(text)),)
    return Scene(
        text=text,
        sentences=segs,
        masked=tuple(masked),
        wealth_names=tuple(wealth_names),
        deposit_names=tuple(deposit_names),
        starts=tuple(seg.start for seg in segs),
    )


def is_neutralised(scene: Scene, context: Context, start: int, end: int, *, nested: bool = False) -> bool:
    """True when the words at ``[start, end)`` are negated, questioned, quoted or refuted, not asserted."""
    text = scene.text
    index = scene.sentence_index(start)
    sentence = scene.sentences[index]
    if scene.is_masked(start):
        return True
    if is_question(text, sentence) and not context.rhetorical.search(text[sentence.start : sentence.end].strip()):
        return True
    begin = clause_start(text, sentence, start, lookback=_LOOKBACK)
    pre = text[begin:start]
    contrasts = list(context.contrast.finditer(pre))
    if contrasts:
        begin += contrasts[-1].end()
        pre = pre[contrasts[-1].end() :]
    if _negated(context, context.reassurance.sub("", pre)):
        return True
    if context.post.search(text[end : sentence.end][: context.post_chars]):
        return True
    if context.reported.search(text[max(sentence.start, start - _LOOKBACK) : start]):
        following = scene.sentences[index + 1].end if index + 1 < len(scene.sentences) else len(text)
        return context.refutation.search(text[end:following]) is not None
    if not nested:
        # One level only: "不能保证您不会亏" is negated through 保证; deeper nesting is rare in replies.
        verbs = list(context.scope_verbs.finditer(pre))
        if verbs:
            verb = verbs[-1]
            return is_neutralised(scene, context, begin + verb.start(), begin + verb.end(), nested=True)
    return False


def _negated(context: Context, pre: str) -> bool:
    if context.adjacent_negation.search(pre):
        return True
    return any(window.search(pre[-chars:]) for chars, window in context.windows)


def _has_deposit_subject(scene: Scene, context: Context, start: int, end: int) -> bool:
    """True when the subject is a real deposit: the first product word of the clause (else sentence)."""
    text = scene.text
    sentence = scene.sentences[scene.sentence_index(start)]
    if context.deposit_after.search(text[end : sentence.end]):
        return True
    for begin in (clause_start(text, sentence, start, lookback=_LOOKBACK), sentence.start):
        begin = max(begin, start - _LOOKBACK)
        subject = _first_subject(scene, context, text[begin:start])
        if subject is not None:
            return subject == "deposit"
    return False


def _first_subject(scene: Scene, context: Context, pre: str) -> str | None:
    """Which product word comes first in ``pre``: "deposit", "wealth", or None if neither."""
    deposit = [
        m.start()
        for m in context.deposit_terms.finditer(pre)
        if not context.deposit_comparison.search(pre[max(0, m.start() - 12) : m.start()])
    ] + [pre.find(n) for n in scene.deposit_names if n in pre]
    wealth = [m.start() for m in context.wealth_terms.finditer(pre)] + [
        pre.find(n) for n in scene.wealth_names if n in pre
    ]
    if not deposit and not wealth:
        return None
    return "deposit" if min(deposit, default=len(pre)) < min(wealth, default=len(pre)) else "wealth"


def find_claims(scene: Scene, rules: RuleSet) -> list[Hit]:
    """All forbidden claims the message asserts, one hit per rule per sentence."""
    context = rules.context
    hits: dict[tuple[str, int], Hit] = {}
    for rule in rules.claims:
        for pattern in rule.patterns:
            if pattern.unless_text is not None and pattern.unless_text.search(scene.text):
                continue
            for match in pattern.regex.finditer(scene.text):
                start, end = match.span()
                index = scene.sentence_index(start)
                key = (rule.name, index)
                if key in hits and hits[key].position <= start:
                    continue  # one finding per rule per sentence is all a reviewer needs
                if end > start and _asserted(scene, context, rule.deposit_exempt, start, end):
                    hits[key] = Hit(rule.name, rule.critical, start, scene.sentences[index])
    for rule in rules.claims:
        for weaker in rule.supersedes:
            for rule_name, index in list(hits):
                if rule_name == rule.name:
                    hits.pop((weaker, index), None)
    return sorted(hits.values(), key=lambda hit: hit.position)


def _asserted(scene: Scene, context: Context, deposit_exempt: bool, start: int, end: int) -> bool:
    if is_neutralised(scene, context, start, end):
        return False
    return not (deposit_exempt and _has_deposit_subject(scene, context, start, end))
