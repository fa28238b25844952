"""One clean answer per question, without an LLM: structured facts and approved quotes, in the
question's language, every part answered, required wording once at the end.

The Retrieval decides whether to answer and ranks the evidence; this only decides how to say it:
- a question naming a product (or with a product in focus) is answered from that product's fields
  when it asks about one of them ("季享90天的业绩比较基准是多少？有什么费用？" gets both);
- two or three named products are shown side by side;
- what the fields do not answer is quoted from the best passage in the question's language, never
  from a passage in the other language (then structured fields, or a polite decline);
- closed and suspended products are said to be not purchasable.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from bot.catalogue import catalogue_for
from bot.compliance.outgoing import disclosure_wording, join_disclosures, strip_disclosures
from bot.core.messages import Citation
from bot.knowledge.extractive import NEAR_BEST, Quote, Quoter, budget_for, decline, message
from bot.knowledge.facts import Fact, citation, description, product_facts, side_by_side, status_note
from bot.knowledge.guard import Guard
from bot.knowledge.lexical import Tokenizer
from bot.knowledge.models import Answer, Hit, Product, Retrieval
from bot.knowledge.questions import Part, Topic, all_topics, parts, without_topics
from bot.language import Language

#: At most this many products are compared side by side.
MAX_COMPARED = 3
#: A quote added to facts must hold this share of the question's weighted words (besides product names).
MIN_COVERAGE = 0.5
#: Fields shown about a product the reply has nothing else to say about in its language.
PROFILE: tuple[Topic, ...] = ("risk", "minimum", "term", "status")


def products_in_question(retrieval: Retrieval) -> list[Product]:
    """Products the question names (catalogue names and aliases), then those in focus, without repeats."""
    catalogue = retrieval.catalogue
    entries = tuple(p.entry() for p in catalogue.values())
    named = [catalogue[e.code] for e in catalogue_for(entries).named(retrieval.query) if e.code in catalogue]
    out: dict[str, Product] = {p.code: p for p in named}
    if not out:  # a named product replaces the one in focus ("那禾润呢？")
        out = {p.code: p for p in retrieval.products}
    return list(out.values())


def lead_product(retrieval: Retrieval) -> list[Product]:
    """The product the gate's first evidence is about, when that evidence is in the other language ("Can
    I still buy government savings bonds?" first finds the bond's Chinese page): its fields say it in the
    question's language, so the reply still cites first what retrieval ranked first."""
    evidence = retrieval.evidence
    if not evidence or evidence[0].language == retrieval.language:
        return []
    codes = [c for c in evidence[0].products if c in retrieval.catalogue]
    return [retrieval.catalogue[codes[0]]] if len(codes) == 1 else []


@dataclass
class Draft:
    """The reply being built: lines, the approved texts they quote, and their sources."""

    lines: list[str] = field(default_factory=list)
    approved: list[str] = field(default_factory=list)
    citations: list[Citation] = field(default_factory=list)
    quotes: list[Quote] = field(default_factory=list)
    sourced: bool = False  # a line already says "根据《…》": later sources are "另据《…》"

    def add(self, text: str, approved: Sequence[str] = (), citations: Sequence[Citation] = ()) -> None:
        self.lines.append(text)
        self.approved.extend(a for a in approved if a)
        self.citations.extend(c for c in citations if c not in self.citations)

    def add_facts(self, facts: Sequence[Fact]) -> None:
        for fact in facts:
            self.add(fact.text, fact.approved, fact.citations)

    @property
    def length(self) -> int:
        return sum(len(line) for line in self.lines)


class Composer:
    """Builds the extractive answer for one Retrieval."""

    def __init__(self, *, tokenizer: Tokenizer, guard: Guard, max_chars: int, max_voice_chars: int) -> None:
        self._guard = guard
        self._quoter = Quoter(tokenizer=tokenizer)
        self._max_chars = max_chars
        self._max_voice_chars = max_voice_chars

    def compose(
        self,
        retrieval: Retrieval,
        *,
        channel: str,
        weight: Callable[[str], float],
        notices: Callable[[str], str] = lambda _: "",
    ) -> Answer:
        """The answer to `retrieval.query`, or a decline when nothing can be said in its language.

        `notices(source_id)` gives the risk notice compliance attached to a document: a quote from it
        carries that wording (once, at the end) even when the quoted sentences would not trigger it.
        """
        language = retrieval.language
        questions = parts(retrieval.query, language)
        topics = all_topics(questions)
        about = products_in_question(retrieval)
        lead = [] if about else lead_product(retrieval)
        about = about or lead
        voice = channel == "voice"
        draft = Draft()
        covered = _facts(draft, about, topics, language, voice=voice)
        compared = len(about) >= 2 and bool(draft.lines)
        if len(about) == 1 and not topics:  # "朝夕是什么？": the approved description says it
            fact = description(about[0], language, intro=not voice)
            draft.add_facts([fact] if fact is not None else [])
            draft.sourced = fact is not None
        if len(about) == 1 and not draft.lines and not _passages_about(retrieval, about[0]):
            # Nothing in this language speaks of the product but its fields: they lead, before any general passage.
            draft.add_facts(product_facts(about[0], PROFILE, language))
        open_parts = [p for p in questions if not self._answered(p, covered, compared, retrieval, weight)]
        if open_parts:
            budget = budget_for(channel, language, chars=self._max_chars, voice_chars=self._max_voice_chars)
            room = max(budget - draft.length, budget // 3)
            self._passages(draft, retrieval, open_parts, about, room, weight, voice=voice)
        if about and not _says_anything_about(draft, about):  # nothing in this language: the profile
            draft.add_facts(product_facts(about[0], PROFILE, language))
        if not draft.lines:
            other = any(h.language != language for h in retrieval.evidence)
            return decline(language, reason="other_language_only" if other else "decline")
        return self._finish(draft, retrieval, about, notices)

    def _passages(
        self,
        draft: Draft,
        retrieval: Retrieval,
        open_parts: list[Part],
        about: list[Product],
        budget: int,
        weight: Callable[[str], float],
        *,
        voice: bool,
    ) -> None:
        """Quotes in the question's language for the parts the fields did not answer.

        Passages are taken in the gate's order (see `_source`), so the reply cites first what retrieval
        ranked first. After facts, a quote must add something: words of the question besides the
        product's name, and content the reply does not already hold.
        """
        candidates = _candidates(retrieval, about, draft)
        if not candidates:
            return
        questions = [_residual(p.text, retrieval) for p in open_parts]
        assigned: dict[str, tuple[Hit, list[str]]] = {}
        for question in questions:
            hit = self._source(question, candidates, weight, several=len(questions) > 1)
            assigned.setdefault(hit.id, (hit, []))[1].append(question)
        share = budget // len(assigned)
        for hit, texts in assigned.values():
            question = "".join(texts)
            quote = self._quoter.quote(question, hit, share, weight)
            if quote is not None and (not draft.lines or self._adds(quote, question, draft, weight)):
                _add_quote(draft, quote, retrieval, first=not draft.sourced, voice=voice)
        if voice or not draft.quotes or len(open_parts) > 1:
            return
        first = draft.quotes[0].hit
        room = budget - sum(len(q.text) for q in draft.quotes)
        second = next((h for h in candidates if h.id != first.id and _supports(h, first, about)), None)
        if second is not None and room >= min(120, budget // 3):
            quote = self._quoter.quote(questions[0], second, room, weight)
            if quote is not None and self._adds(quote, questions[0], draft, weight):
                _add_quote(draft, quote, retrieval, first=False, voice=voice)

    def _answered(
        self, part: Part, covered: set[Topic], compared: bool, retrieval: Retrieval, weight: Callable[[str], float]
    ) -> bool:
        """A part is answered when facts cover every field it asks about and it asks nothing else
        ("朝夕算存款吗，会不会亏本？" asks about risk, and something no field says)."""
        if not part.topics:
            return compared  # "季享和禾润有什么区别？" is what the side-by-side answers
        if not set(part.topics) <= covered:
            return False
        rest = without_topics(_residual(part.text, retrieval), retrieval.language)
        return self._quoter.score(rest, rest, weight) == 0

    def _source(self, question: str, candidates: list[Hit], weight: Callable[[str], float], *, several: bool) -> Hit:
        """The source to quote for one part: the gate's order decides, not word overlap (the gate weighed
        far more than shared words). The first candidate with something quotable (a passage may be all
        risk notice or all table); one part of several goes to the first that holds most of that part's
        words, so each part is answered from where it is said."""
        texts = {h.id: self._quoter.quotable(h, self._quoter.passage(question, h, weight)) for h in candidates}
        usable = [h for h in candidates if texts[h.id]] or candidates
        if not several:
            return usable[0]
        covering = (h for h in usable if self._quoter.covers(question, texts[h.id], weight) >= MIN_COVERAGE)
        return next(covering, usable[0])

    def _adds(self, quote: Quote, question: str, draft: Draft, weight: Callable[[str], float]) -> bool:
        """A further quote speaks to most of the question and is not a near-repeat of the reply so far."""
        relevant = self._quoter.covers(question, quote.text, weight) >= MIN_COVERAGE
        return relevant and self._quoter.novel(quote.text, "".join(draft.lines))

    def _finish(
        self, draft: Draft, retrieval: Retrieval, about: list[Product], notices: Callable[[str], str]
    ) -> Answer:
        """Status notes, then the required wording once, at the end."""
        language = retrieval.language
        discussed = _discussed(draft, about, retrieval.catalogue)
        for product in discussed:
            note = status_note(product, language)
            if note is not None and note not in draft.lines:
                draft.add(note)
        # A quoted description may end with the wording: it moves to the end, said once.
        body, carried = strip_disclosures("\n".join(draft.lines), language)
        attached = "\n".join(notices(source) for source in dict.fromkeys(q.hit.id for q in draft.quotes))
        # Titles count as what the answer is about even when a voice answer does not say them.
        subject = "\n".join([body, *(q.hit.title for q in draft.quotes)])
        needed = self._guard.disclosures(
            subject, language=language, products=list(retrieval.catalogue.values()), about=discussed
        )
        wording = disclosure_wording(language)
        disclosures = [w for w in wording if w in carried or w in needed or w in attached]
        disclosures += [d for d in needed if d not in disclosures]
        text = body + ("\n" + join_disclosures(disclosures, language) if disclosures else "")
        # A quote that lost its trailing wording is still approved text, up to where the wording began.
        approved = [_unworded(a, language) for a in draft.approved]
        return Answer(
            answer=text,
            citations=draft.citations,
            grounded=True,
            mode="extractive",
            disclosures=disclosures,
            approved=list(dict.fromkeys(a for a in approved if a)),
        )


def _unworded(text: str, language: Language) -> str:
    stripped, found = strip_disclosures(text, language)
    return stripped.rstrip("。.") if found else text


def _facts(
    draft: Draft, about: list[Product], topics: tuple[Topic, ...], language: Language, *, voice: bool
) -> set[Topic]:
    """Structured fields for the products in question; returns the topics they answered."""
    if len(about) >= 2:
        facts = side_by_side(about[:MAX_COMPARED], topics, language, voice=voice)
    elif about and topics:
        facts = product_facts(about[0], topics, language)
    else:
        return set()
    draft.add_facts(facts)
    return {t for t in topics if any(t in fact.topics for fact in facts)}


def _add_quote(draft: Draft, quote: Quote, retrieval: Retrieval, *, first: bool, voice: bool) -> None:
    """A quote with its source's title (a product's name in the reply's language), except on a call."""
    hit, language = quote.hit, quote.hit.language
    product = retrieval.catalogue.get(hit.id) if hit.kind == "product" else None
    source = citation(product, language) if product is not None else hit.citation
    intro = "" if voice else message("source_intro" if first else "also_intro", language, title=source.title)
    draft.add(intro + quote.text, [*quote.sentences, *([hit.title] if intro and product is None else [])], [source])
    draft.quotes.append(quote)
    draft.sourced = True


def _candidates(retrieval: Retrieval, about: Sequence[Product], draft: Draft) -> list[Hit]:
    """Evidence in the question's language, never the other, in the gate's order.

    A question about products gets passages about them first, then general ones, never ones about
    other products; a product its facts already describe needs no field passage of its own. A general
    question keeps the gate's order: "the cash fund" or "insurance bought at the bank" is answered by
    the product's own passage when the gate ranks it first."""
    same = [h for h in retrieval.evidence if h.language == retrieval.language]
    codes = {p.code for p in about}
    if not codes:
        return same
    said = {c.id for c in draft.citations}
    same = [h for h in same if not (h.kind == "product" and h.id in said)]
    return [h for h in same if codes & set(h.products)] + [h for h in same if not h.products]


def _residual(question: str, retrieval: Retrieval) -> str:
    """The question without the products' names: what a quote must speak to beyond naming the product."""
    entries = tuple(p.entry() for p in retrieval.catalogue.values())
    for mention in sorted(catalogue_for(entries).find(question), key=lambda m: m.start, reverse=True):
        question = question[: mention.start] + " " + question[mention.end :]
    return question


def _near(hit: Hit, best: Hit) -> bool:
    return hit.relevance >= NEAR_BEST * best.relevance


def _supports(hit: Hit, first: Hit, about: Sequence[Product]) -> bool:
    """A second quote nearly as relevant, and not about a product the client did not ask about
    (candidates about other products are already left out when the question names one)."""
    return _near(hit, first) and (bool(about) or not hit.products)


def _passages_about(retrieval: Retrieval, product: Product) -> bool:
    """Whether some evidence in the question's language, other than the product's own entry, is about it."""
    return any(
        h.language == retrieval.language and h.kind == "doc" and product.code in h.products for h in retrieval.evidence
    )


def _says_anything_about(draft: Draft, about: Sequence[Product]) -> bool:
    codes = {p.code for p in about}
    return any(c.id in codes for c in draft.citations) or any(codes & set(q.hit.products) for q in draft.quotes)


def _discussed(draft: Draft, about: Sequence[Product], catalogue: dict[str, Product]) -> list[Product]:
    """The products the answer is about: those in question, and those its quotes are about alone."""
    out = {p.code: p for p in about}
    for quote in draft.quotes:
        if len(quote.hit.products) == 1 and quote.hit.products[0] in catalogue:
            out.setdefault(quote.hit.products[0], catalogue[quote.hit.products[0]])
    return list(out.values())
