"""Forbidden-claim detection: keyword patterns and frames from rules.yml, kept only when the text makes the claim.

A bare keyword match would flag the disclaimers the regulation itself requires (本产品不保本,
returns are not guaranteed) and the client's own questions quoted back. So each hit is checked
against its context: negation before it (within its clause, reset by 但/but), a refutation after it,
question sentences, quotations of someone else's words, hearsay or attributions that are refuted,
and, for guarantee and deposit wording, whether the subject is a deposit or a government bond
(大额存单保本保息 is a fact, not a claim).

Keywords alone cannot catch a claim made in ordinary words (到时候一分都少不了), so a frame binds the
claim words to the words that make them a claim (a certainty marker and an outcome in one clause),
each part judged for negation and attribution on its own.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise

from bot.compliance.rules import ClaimRule, Context, Frame, FrameScope, RuleSet
from bot.compliance.text import Normalized, Segment, clause_end, clause_start, is_question, quoted, sentences

# Context is read from a bounded look-back so one huge unpunctuated message stays linear, not quadratic.
_LOOKBACK = 120
# A pronoun's (or an omitted) subject is looked for this many sentences back.
_SUBJECT_HOPS = 3


@dataclass(frozen=True, slots=True)
class Hit:
    """A confirmed claim: rule, position in normalised text, and the sentence it sits in."""

    rule: str
    critical: bool
    position: int
    sentence: Segment
    source: str  # which pattern or frame of the rule found it ("frames.certain_outcome"), for reviewers


@dataclass(frozen=True, slots=True)
class Subject:
    """A product word in the text: a catalogue product or a generic term, and whether the law or the state
    protects its principal (a deposit or a government bond: its 保本保息 is a fact, not a claim)."""

    start: int
    end: int
    protected: bool


#: What a catalogue name is read as: its words (No.1, 稳, 安心, 收益) are the bank's name for it, not
#: the speaker's claim, negation or hedge. One code point per character keeps every offset.
NAME_CHAR = "\u25a1"


@dataclass(frozen=True, slots=True)
class Scene:
    """Per-message facts shared by all rules: sentences, masked quotes, and the catalogue's products named.

    ``text`` is the normalised message with each catalogue name blanked to NAME_CHAR (same length).
    """

    text: str
    sentences: tuple[Segment, ...]
    masked: tuple[Segment, ...]
    products: tuple[Subject, ...]
    starts: tuple[int, ...]

    def sentence_index(self, position: int) -> int:
        """Index of the sentence holding ``position`` (the last one starting at or before it)."""
        return max(0, bisect_right(self.starts, position) - 1)

    def is_masked(self, position: int) -> bool:
        """True inside a quotation of someone else's words."""
        return any(seg.start <= position < seg.end for seg in self.masked)


def build_scene(normalized: Normalized, context: Context, *, products: Sequence[Subject] = ()) -> Scene:
    """Segment the message once and find the quotations that are not our own claims."""
    chars = list(normalized.text)
    for product in products:
        chars[product.start : product.end] = NAME_CHAR * (product.end - product.start)
    text = "".join(chars)
    masked: list[Segment] = []
    previous: Segment | None = None  # the last quotation masked, so "“A”或“B”" masks both
    for whole, inner in quoted(text):
        content = text[inner.start : inner.end].rstrip(" .!。")
        before = text[max(0, whole.start - 20) : whole.start]
        after = text[whole.end : whole.end + 14]
        if (
            content.endswith(("?", "吗", "呢"))
            or context.quote_before.search(before)
            or context.quote_after.search(after)
            or (previous is not None and context.quote_chain.fullmatch(text[previous.end : whole.start]))
        ):
            masked.append(inner)
            previous = whole
    masked += _chained_before(text, context, masked)
    segs = tuple(sentences(text)) or (Segment(0, len(text)),)
    return Scene(
        text=text,
        sentences=segs,
        masked=tuple(sorted(masked, key=lambda seg: seg.start)),
        products=tuple(products),
        starts=tuple(seg.start for seg in segs),
    )


def _chained_before(text: str, context: Context, masked: list[Segment]) -> list[Segment]:
    """Quotations in a run share their fate: "“闭眼入”“无脑冲”的说法" is introduced by what follows the last
    one, so each quotation right before a masked one (joined by or/and/、) is masked too."""
    spans = quoted(text)
    inner_of = {inner.start for inner in masked}
    found: list[Segment] = []
    for (whole, inner), (following, following_inner) in reversed(list(pairwise(spans))):
        joined = context.quote_chain.fullmatch(text[whole.end : following.start])
        if joined and following_inner.start in inner_of and inner.start not in inner_of:
            found.append(inner)
            inner_of.add(inner.start)
    return found


def is_neutralised(scene: Scene, context: Context, start: int, end: int, *, nested: bool = False) -> bool:
    """True when the words at ``[start, end)`` are negated, questioned, quoted or refuted, not asserted."""
    text = scene.text
    index = scene.sentence_index(start)
    sentence = scene.sentences[index]
    if scene.is_masked(start):
        return True
    if _questioned(text, context, sentence, start):
        return True
    if context.negative_list.search(text, max(0, start - _LOOKBACK), start) or context.undecided.search(
        text, start, end
    ):
        return True
    stop = clause_end(text, sentence, end)
    if context.open_amount.match(text, end, stop) or context.denied_after.match(text, end, stop):
        return True  # "能赚多少我没法说" leaves the amount open; "内部消息我们没有" denies the topic it opens with
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
    lead_start = max(sentence.start, start - _LOOKBACK)
    # The attribution may end inside the match ("Ads promising guaranteed returns"): it only has to begin before it.
    reported = next((m for m in context.reported.finditer(text, lead_start, end) if m.start() < start), None)
    if reported:
        # Someone else's words are ours only when nobody warns against them: "别信那些说…的人" before,
        # "…那是违规的" or "…请拒绝" after the attribution (in this sentence or the next).
        lead = text[lead_start : reported.start()]
        following = scene.sentences[index + 1].end if index + 1 < len(scene.sentences) else len(text)
        if context.refutation.search(text, reported.end(), following) or context.warning.search(lead):
            return True
    if not nested:
        # One level only: "不能保证您不会亏" is negated through 保证; deeper nesting is rare in replies.
        verbs = list(context.scope_verbs.finditer(pre))
        if verbs:
            verb = verbs[-1]
            return is_neutralised(scene, context, begin + verb.start(), begin + verb.end(), nested=True)
    return False


def _questioned(text: str, context: Context, sentence: Segment, start: int) -> bool:
    """A question asks about its words, unless rhetorical or a tag; a bare topic asked at the end
    ("铁定是正收益，回撤？不存在的") asks only about itself, so the clauses before it stay statements."""
    if not is_question(text, sentence) or context.rhetorical.search(text[sentence.start : sentence.end].strip()):
        return False
    last = clause_start(text, sentence, sentence.end - 1)
    return start >= last or not context.topic_question.fullmatch(text, last, sentence.end)


def _negated(context: Context, pre: str) -> bool:
    if context.adjacent_negation.search(pre):
        return True
    return any(window.search(pre[-chars:]) for chars, window in context.windows)


def _has_deposit_subject(scene: Scene, context: Context, start: int, end: int) -> bool:
    """True when the claim is about a deposit or a government bond (by catalogue type, else by word).

    The subject is the nearest product word before the claim in its sentence, else the first one
    after it in its clause ("还本付息的储蓄国债"), else, for a sentence opening with a pronoun (它, it) or
    naming no product, an earlier sentence's subject; a product after 比/跟/像 is compared with, not
    described ("跟存款一样" says something about the other product).
    """
    text = scene.text
    sentence = scene.sentences[scene.sentence_index(start)]
    if context.deposit_after.search(text[end : sentence.end]):
        return True
    begin = max(sentence.start, start - _LOOKBACK)
    before = [s for s in _subjects(scene, context, begin, start) if s.end <= start]
    if before:
        return before[-1].protected
    stop = clause_end(text, sentence, end)
    if text.startswith(":", stop):
        stop = sentence.end  # "这两样都是保本的：储蓄国债和大额存单": the subjects follow the colon
    after = _subjects(scene, context, end, stop)
    if after:
        return after[0].protected
    # "它属于存款" / "储蓄国债是财政部发行的。到期还本付息。": a sentence opening with a pronoun, or naming no
    # product at all, speaks of an earlier sentence's subject (a few back).
    index = scene.sentence_index(start)
    for _ in range(_SUBJECT_HOPS):
        current = scene.sentences[index]
        if not index or not (
            context.pronoun.match(text, current.start) or not _subjects(scene, context, current.start, current.end)
        ):
            break
        index -= 1
        named = _subjects(scene, context, scene.sentences[index].start, scene.sentences[index].end)
        if named:
            return named[0].protected
    return False


def _subjects(scene: Scene, context: Context, begin: int, end: int) -> list[Subject]:
    """Product words in ``[begin, end)`` in order, comparisons left out; a catalogue name wins over a
    generic word inside it (a wealth product called 存单宝 is not a deposit)."""
    text = scene.text
    named = [s for s in scene.products if begin <= s.start < end]
    found = list(named)
    for pattern, protected in ((context.deposit_terms, True), (context.wealth_terms, False)):
        for m in pattern.finditer(text, begin, end):
            if not any(n.start <= m.start() < n.end for n in named):
                found.append(Subject(m.start(), m.end(), protected))
    return sorted(
        (s for s in found if not context.not_subject.search(text[max(0, s.start - 12) : s.start])),
        key=lambda s: s.start,
    )


def find_claims(scene: Scene, rules: RuleSet) -> list[Hit]:
    """All forbidden claims the message asserts, one hit per rule per sentence."""
    context = rules.context
    hits: dict[tuple[str, int], Hit] = {}

    def keep(rule: ClaimRule, start: int, end: int, source: str) -> None:
        index = scene.sentence_index(start)
        key = (rule.name, index)
        if key in hits and hits[key].position <= start:
            return  # one finding per rule per sentence is all a reviewer needs
        if end > start and _asserted(scene, context, rule.deposit_exempt, start, end):
            hits[key] = Hit(rule.name, rule.critical, start, scene.sentences[index], source)

    for rule in rules.claims:
        for number, pattern in enumerate(rule.patterns):
            if pattern.unless_text is not None and pattern.unless_text.search(scene.text):
                continue
            for match in pattern.regex.finditer(scene.text):
                keep(rule, match.start(), match.end(), f"patterns[{number}]")
        for frame in rule.frames:
            for start, end in frame_claims(scene, context, frame):
                keep(rule, start, end, f"frames.{frame.name}")
    for rule in rules.claims:
        for weaker in rule.supersedes:
            for rule_name, index in list(hits):
                if rule_name == rule.name:
                    hits.pop((weaker, index), None)
    return sorted(hits.values(), key=lambda hit: hit.position)


def frame_claims(scene: Scene, context: Context, frame: Frame) -> list[tuple[int, int]]:
    """Spans of ``frame.claim`` whose scope holds the frame's other parts (the claim itself is judged by
    the caller, like any keyword hit)."""
    text = scene.text
    found: list[tuple[int, int]] = []
    for match in frame.claim.finditer(text):
        start, end = match.span()
        spans = {scope: _scope(scene, scope, start, end) for scope in _scopes(frame)}
        if any(_cancels(scene, context, p.regex, *spans[p.scope or frame.scope], start) for p in frame.unless):
            continue
        if not all(p.regex.search(text, *spans[p.scope or frame.scope]) for p in frame.near):
            continue
        if frame.about_wealth and not _names_wealth(scene, context, start):
            continue
        if all(_asserted_in(scene, context, p.regex, *spans[p.scope or frame.scope]) for p in frame.with_):
            found.append((start, end))
    return found


def _cancels(scene: Scene, context: Context, pattern: re.Pattern[str], begin: int, stop: int, claim: int) -> bool:
    """An ``unless`` part cancels the claim, unless a contrast stands between them ("过往业绩不代表未来，
    但这只肯定还会涨": the caveat said first is taken back by the 但 that leads to the claim)."""
    return any(
        m.end() > claim or not context.contrast.search(scene.text, m.end(), claim)
        for m in pattern.finditer(scene.text, begin, stop)
    )


def _names_wealth(scene: Scene, context: Context, position: int) -> bool:
    """The sentence names a product whose principal nobody protects (a wealth product, insurance)."""
    sentence = scene.sentences[scene.sentence_index(position)]
    return any(not s.protected for s in _subjects(scene, context, sentence.start, sentence.end))


def _scopes(frame: Frame) -> set[FrameScope]:
    return {frame.scope, *(p.scope for p in (*frame.with_, *frame.near, *frame.unless) if p.scope)}


def _scope(scene: Scene, scope: FrameScope, start: int, end: int) -> tuple[int, int]:
    index = scene.sentence_index(start)
    sentence = scene.sentences[index]
    if scope == "clause":
        return (
            clause_start(scene.text, sentence, start, lookback=_LOOKBACK),
            clause_end(scene.text, sentence, end),
        )
    if scope == "window":
        last = len(scene.sentences) - 1
        return scene.sentences[max(0, index - 1)].start, scene.sentences[min(last, index + 1)].end
    return sentence.start, sentence.end


def _asserted_in(scene: Scene, context: Context, pattern: re.Pattern[str], begin: int, stop: int) -> bool:
    return any(
        m.end() > m.start() and not is_neutralised(scene, context, m.start(), m.end())
        for m in pattern.finditer(scene.text, begin, stop)
    )


def _asserted(scene: Scene, context: Context, deposit_exempt: bool, start: int, end: int) -> bool:
    if is_neutralised(scene, context, start, end):
        return False
    return not (deposit_exempt and _has_deposit_subject(scene, context, start, end))
