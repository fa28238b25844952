"""Answers drawn from a product's structured fields (products.yml): fees, redemption, minimum, benchmark,
term, risk level, status; one product, or two or three side by side.

Field values are approved text and are quoted verbatim (they are listed in `Fact.approved`); the labels
around them come from data/messages.yml and are checked by the guard like anything the bot composes.
Chinese answers may use every field. English answers use only fields that read the same in English
(amounts, days, levels, fees whose values are plain figures): a Chinese field is never pasted into an
English reply.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from bot.core.messages import Citation
from bot.knowledge.extractive import CJK, message, messages, split_sentences
from bot.knowledge.models import Product
from bot.knowledge.questions import Topic, composition
from bot.language import Language

_LEADING_LABEL = re.compile(r"^(?:业绩比较基准|performance benchmark)\s*[:：]?\s*", re.IGNORECASE)
#: Fields compared on a call when the question names none: short enough to be heard.
VOICE_COMPARISON: tuple[Topic, ...] = ("risk", "minimum", "term")


@dataclass(frozen=True)
class Fact:
    """One line of an answer, the approved texts it quotes verbatim, and where they come from."""

    text: str
    approved: tuple[str, ...] = ()
    citations: tuple[Citation, ...] = field(default_factory=tuple)
    topics: tuple[Topic, ...] = ()  # the product fields this line answers


def citation(product: Product, language: Language) -> Citation:
    """A product as a source, named in the reply's language."""
    return Citation(id=product.code, title=product.name_en if language == "en" and product.name_en else product.name)


def short_name(product: Product, language: Language) -> str:
    """What a client calls the product: its first alias in the reply's language, else its name."""
    for alias in product.aliases:
        if bool(CJK.search(alias)) == (language == "zh"):
            return alias
    return product.name if language == "zh" else (product.name_en or product.code)


def _readable(text: str, language: Language) -> bool:
    """A field may go into an English reply only when it holds no Chinese."""
    return language == "zh" or not CJK.search(text)


def _amount(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2f}"


def field_value(product: Product, topic: Topic, language: Language) -> tuple[str, tuple[str, ...]] | None:
    """The field answering `topic`, in `language`, with the approved texts it quotes; None if absent."""
    data = messages()
    if topic == "benchmark" and product.benchmark and _readable(product.benchmark, language):
        value = _LEADING_LABEL.sub("", product.benchmark.strip())
        return value, (value,)
    if topic == "liquidity" and product.liquidity and _readable(product.liquidity, language):
        return product.liquidity.strip(), (product.liquidity.strip(),)
    if topic == "fees" and product.fees:
        return _fees(product, language)
    if topic == "minimum" and product.min_amount is not None:
        unit = data["currency"][language].get(product.currency, product.currency)
        template = data["minimum_deposit" if product.type == "deposit" else "minimum"][language]
        return template.format(amount=_amount(product.min_amount), unit=unit), ()
    if topic == "term":
        if product.term_days:
            return data["term"][language].format(days=product.term_days), ()
        return data["open_ended"][language], ()
    if topic == "risk":
        return data["risk_levels"][language][product.risk_level], ()
    if topic == "status" and product.status == "on_sale":  # otherwise a status note says it
        return data["status"][language][product.status], ()
    return None


def _fees(product: Product, language: Language) -> tuple[str, tuple[str, ...]] | None:
    if language == "zh":
        items = [(name, value) for name, value in product.fees.items()]
        return "；".join(f"{name}{value}" for name, value in items), tuple(v for _, v in items)
    names: dict[str, str] = messages()["fee_names"]
    if not all(k in names and _readable(v, "en") for k, v in product.fees.items()):
        return None  # never a partial fee list: English passages answer instead
    items = [(names[k], v) for k, v in product.fees.items()]
    return "; ".join(f"{name} {value}" for name, value in items), tuple(v for _, v in items)


def product_facts(product: Product, topics: Sequence[Topic], language: Language) -> list[Fact]:
    """One labelled fact per topic the product's fields can answer."""
    facts: list[Fact] = []
    templates = messages()["facts"][language]
    name = short_name(product, language)
    for topic in topics:
        found = field_value(product, topic, language)
        if found is None:
            continue
        value, approved = found
        template = templates.get(f"{topic}_{product.type}", templates[topic])
        text = template.format(name=name, value=value)
        facts.append(Fact(_end(text, language), approved, (citation(product, language),), (topic,)))
    return facts


def description(product: Product, language: Language, *, intro: bool = True) -> Fact | None:
    """The approved description ("朝夕是什么？"), introduced by the product's name as its source."""
    if not _readable(product.description, language):
        return None
    source = citation(product, language)
    text = message("source_intro", language, title=source.title) if intro else ""
    return Fact(text + product.description.strip(), tuple(split_sentences(product.description)), (source,))


def side_by_side(
    products: Sequence[Product], topics: Sequence[Topic], language: Language, *, voice: bool = False
) -> list[Fact]:
    """Two or three products, one labelled line each; the benchmark's explanation follows once.

    On a call the lines are short spoken sentences: the asked fields, else level, minimum and term.
    """
    default = VOICE_COMPARISON if voice else tuple(composition()["comparison_topics"])
    chosen = list(topics) or list(default)
    templates = messages()["facts"][language]
    labels = messages()["labels"][language]
    separator = ("，" if voice else "；") if language == "zh" else ("; " if not voice else ", ")
    names = ("、" if language == "zh" else " and ").join(short_name(p, language) for p in products)
    facts = [Fact(templates["compare_intro"].format(names=names))]
    explanation: tuple[str, ...] = ()
    for product in products:
        fields: list[str] = []
        approved: list[str] = []
        answered: list[Topic] = []
        for topic in chosen:
            found = field_value(product, topic, language)
            if found is None:
                continue
            value, quoted = found
            if topic in ("benchmark", "liquidity"):  # the figure or first rule; the rest once below
                first, *rest = split_sentences(value) or [value]
                value, quoted = first.rstrip("。.；;"), (first.rstrip("。.；;"),)
                if topic == "benchmark" and rest and not explanation:
                    explanation = tuple(rest)
            fields.append(templates["field"].format(label=labels[topic], value=value).strip())
            approved.extend(quoted)
            answered.append(topic)
        if fields:
            name = short_name(product, language)
            line = templates["line"].format(name=name, code=product.code, value=separator.join(fields))
            facts.append(Fact(_end(line, language), tuple(approved), (citation(product, language),), tuple(answered)))
    if explanation:
        facts.append(Fact(("" if language == "zh" else " ").join(explanation), explanation))
    return facts if len(facts) > 1 else []


def status_note(product: Product, language: Language) -> str | None:
    """Closed and suspended products are described, and said to be not purchasable."""
    if product.status == "on_sale":
        return None
    template: str = messages()["status_note"][product.status][language]
    return template.format(name=short_name(product, language))


def _end(text: str, language: Language) -> str:
    text = text.rstrip()
    if text.endswith(("。", "！", "？", ".", "!", "?", "；", ";")):
        return text
    return text + ("。" if language == "zh" else ".")
