"""The questions the answer gate is calibrated on (calibration.py), made from the content it serves.

Positives are questions the content implies, asked the way clients ask them: every document title and
product name, the questions a product's own fields answer, questions put together from a passage's own
telling words, and colloquial variants of each (fillers, a synonym for the content's word, a word the
content never uses, a name cut short, punctuation dropped, a character missed). Negatives are the shipped
out-of-domain questions (data/out_of_domain.yml) and near-domain ones made from this content: its own
product questions about another institution, about a product it does not have (金满盈, 朝朝宝), about a
topic it never covers (房贷, 信用卡: only topics absent from it), and look-ups of the client's own records.
"""

from __future__ import annotations

import random
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from bot.knowledge.models import Product
from bot.knowledge.snapshot import Snapshot, indexed_products
from bot.language import Language

DATA_DIR = Path(__file__).parent / "data"
OUT_OF_DOMAIN_FILE = DATA_DIR / "out_of_domain.yml"
PROBES_FILE = DATA_DIR / "probes.yml"
#: At most this many base content questions (each with its VARIANTS): keeps ingestion in seconds.
MAX_BASE_QUESTIONS = 400
#: Passages of a document that questions are made from, and how many of a passage's most telling words
#: a question is drawn from.
PASSAGES_PER_DOC, TELLING_WORDS = 2, 8
#: Variants per content question, and how they are made: each content word kept with probability KEEP,
#: swapped for a synonym with SWAP, a word the content never uses added with NOISE, a character of a
#: word dropped with TYPO, punctuation dropped with BARE.
VARIANTS, KEEP, SWAP, NOISE, TYPO, BARE = 3, 0.6, 0.3, 0.5, 0.1, 0.3
#: Near-domain negatives of each kind (another institution, an unknown product, an absent topic, a look-up).
NEAR_DOMAIN = 40


@dataclass(frozen=True)
class Probe:
    """One calibration question: the sources that answer it (none: out of domain), and its family
    (a question and its variants share one, so cross-validation never splits them)."""

    text: str
    language: Language
    expected: frozenset[int]
    family: int
    subject: str = ""  # the product name a product question uses


@lru_cache(maxsize=1)
def templates() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(PROBES_FILE.read_text(encoding="utf-8"))
    return data


@lru_cache(maxsize=1)
def out_of_domain() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(OUT_OF_DOMAIN_FILE.read_text(encoding="utf-8"))
    return data


def _join(words: Sequence[str], language: Language) -> str:
    return (" " if language == "en" else "").join(words)


# -- positives ------------------------------------------------------------------------------------


def _product_questions(product: Product, names: Sequence[str], rng: random.Random) -> list[tuple[str, Language, str]]:
    """(question, language, the name it uses): each name alone, and each question the product's
    fields answer, asked with one of its names."""
    asked = templates()["product_questions"]
    fields = {
        "always": True,
        "fees": bool(product.fees),
        "liquidity": bool(product.liquidity),
        "benchmark": bool(product.benchmark),
        "min_amount": product.min_amount is not None,
        "not_on_sale": product.status != "on_sale",
    }
    out: list[tuple[str, Language, str]] = []
    for language in ("zh", "en"):
        own = [n for n in names if n.isascii() == (language == "en")]
        out += [(name, language, name) for name in own]
        for key, present in fields.items():
            for template in asked[language].get(key, []) if present and own else []:
                name = rng.choice(own)
                out.append((template.format(name=name), language, name))
    return out


def _passage_questions(snapshot: Snapshot, rng: random.Random) -> list[tuple[str, Language, frozenset[int], str]]:
    """Questions put together from a document passage's most telling words (what a client who has
    not read it still says: 托管费 … 给谁), in the shapes clients ask in."""
    index, tokenizer = snapshot.index, snapshot.tokenizer
    shapes = templates()["passage_questions"]
    out: list[tuple[str, Language, frozenset[int], str]] = []
    for source, members in enumerate(snapshot.members):
        first = snapshot.chunks[members[0]]
        if first.kind != "doc":
            continue
        for position in members[:PASSAGES_PER_DOC]:
            chunk = snapshot.chunks[position]
            words = list(dict.fromkeys(tokenizer.content_words(chunk.text)))
            words = [w for w in words if not w.isdigit()]
            telling = sorted(words, key=lambda w: -sum(index.term_weight(t) for t in tokenizer.tokens(w)))
            telling = telling[:TELLING_WORDS]
            if len(telling) < 2:
                continue
            a, b = rng.sample(telling, 2)
            shape = rng.choice(shapes[chunk.language])
            out.append((shape.format(a=a, b=b), chunk.language, frozenset({source}), ""))
    return out


def content_probes(snapshot: Snapshot, noise: dict[str, list[str]], seed: int = 7) -> list[Probe]:
    """Titles, product questions and passage questions (with their right sources), and colloquial
    variants of each."""
    by_title: dict[str, set[int]] = {}
    docs: list[tuple[str, Language]] = []
    for source, members in enumerate(snapshot.members):
        chunk = snapshot.chunks[members[0]]
        if chunk.kind == "doc":
            by_title.setdefault(chunk.title.strip().casefold(), set()).add(source)
            docs.append((chunk.title, chunk.language))
    bases = [(title, language, frozenset(by_title[title.strip().casefold()]), "") for title, language in docs]
    rng = random.Random(seed)
    for product in indexed_products(snapshot.chunks):
        names = snapshot.catalogue.names(product.entry())
        expected = frozenset(snapshot.specific.get(product.code, ()))
        asked = _product_questions(product, names, rng)
        bases += [(text, language, expected, name) for text, language, name in asked]
    bases += _passage_questions(snapshot, rng)
    if len(bases) > MAX_BASE_QUESTIONS:
        bases = rng.sample(bases, MAX_BASE_QUESTIONS)
    probes: list[Probe] = []
    for family, (text, language, expected, name) in enumerate(bases):
        probes.append(Probe(text, language, expected, family, name))
        local = random.Random(zlib.crc32(text.encode()) ^ seed)
        for variant in variants(snapshot, text, language, name, noise.get(language, []), local):
            probes.append(Probe(variant, language, expected, family, name))
    return probes


def variants(
    snapshot: Snapshot, text: str, language: Language, subject: str, noise: Sequence[str], rng: random.Random
) -> list[str]:
    """Colloquial variants, the way clients type: some of the words (always the subject: the product's
    name, else the question's rarest word), a synonym instead of the content's word, a word the content
    never uses, a character missed, fillers around it, punctuation or not."""
    tokenizer, index = snapshot.tokenizer, snapshot.index
    fillers = templates()["fillers"][language]
    if subject:
        rest = tokenizer.content_words(text.replace(subject, " ", 1))
        words = [subject, *rest]
    else:
        words = tokenizer.content_words(text) or [text]
        weights = [sum(index.term_weight(t) for t in tokenizer.tokens(w)) for w in words]
        subject = words[max(range(len(words)), key=weights.__getitem__)]
    out: list[str] = []
    for _ in range(VARIANTS):
        kept = [w for w in words if w == subject or rng.random() < KEEP]
        kept = [w if w == subject or rng.random() >= SWAP else _synonym(tokenizer.synonym_groups, w, rng) for w in kept]
        kept = [_typo(w, rng) if w != subject and language == "zh" else w for w in kept]
        if noise and rng.random() < NOISE:
            kept.insert(rng.randrange(len(kept) + 1), rng.choice(noise))
        suffix = rng.choice(fillers["suffix"])
        if rng.random() < BARE:
            suffix = suffix.strip("？?，,。! ")
        out.append(f"{rng.choice(fillers['prefix'])}{_join(kept, language)}{suffix}")
    return [v for v in dict.fromkeys(out) if v != text]


def _typo(word: str, rng: random.Random) -> str:
    """Now and then a Chinese word of three or more characters loses one (a missed keystroke)."""
    if len(word) < 3 or rng.random() >= TYPO:
        return word
    drop = rng.randrange(len(word))
    return word[:drop] + word[drop + 1 :]


def _synonym(groups: Sequence[tuple[str, ...]], word: str, rng: random.Random) -> str:
    lowered = word.lower()
    options = [a for g in groups if lowered in g for a in g if a != lowered and a.isascii() == lowered.isascii()]
    return rng.choice(options) if options else word


def noise_words(snapshot: Snapshot) -> dict[str, list[str]]:
    """Words of the out-of-domain questions that this corpus never uses, per language: what a
    colloquial question adds around the words that matter. Never a word that is itself a sign of an
    out-of-scope question (期货, 话费, 支付宝): a content question carrying one would teach the gate
    that the sign means nothing."""
    index, tokenizer, signals = snapshot.index, snapshot.tokenizer, snapshot.signals
    out: dict[str, set[str]] = {}
    for question, language in out_of_domain_questions():
        for word in tokenizer.content_words(question):
            if index.unseen_share(tokenizer.tokens(word)) == 1.0 and not signals.read(word).any:
                out.setdefault(language, set()).add(word)
    return {language: sorted(words) for language, words in out.items()}


# -- negatives ------------------------------------------------------------------------------------


def out_of_domain_questions() -> list[tuple[str, Language]]:
    data = out_of_domain()
    zh: list[tuple[str, Language]] = [(q, "zh") for q in data.get("zh", [])]
    return zh + [(q, "en") for q in data.get("en", [])]


def near_domain_questions(
    snapshot: Snapshot, product_questions: Sequence[Probe], seed: int = 11
) -> list[tuple[str, Language]]:
    """This content's own product questions about another institution or about a product it does not
    have, questions about topics it never covers, and look-ups of the client's own records (of its
    products too)."""
    rng = random.Random(seed)
    near = templates()["near_domain"]
    institutions: dict[str, list[str]] = out_of_domain().get("institutions", {})
    asked = rng.sample(list(product_questions), min(len(product_questions), NEAR_DOMAIN))
    out: list[tuple[str, Language]] = []
    for probe in asked:  # 工商银行的大额存单…
        names = institutions.get(probe.language) or []
        if names:
            out.append((f"{rng.choice(names)}{'的' if probe.language == 'zh' else ' '}{probe.text}", probe.language))
    for probe in asked:  # 金满盈理财的费用是多少
        if probe.subject and probe.language == "zh":
            out.append((probe.text.replace(probe.subject, _made_up_name(snapshot, rng), 1), "zh"))
    topics = snapshot.signals.absent_words()
    for language, shapes in near["topic"].items():
        words = [w for w in topics if w.isascii() == (language == "en")]
        out += [(rng.choice(shapes).format(x=rng.choice(words)), language) for _ in range(NEAR_DOMAIN // 2) if words]
    for language, shapes in near["personal"].items():
        things = near["records"][language]
        out += [(rng.choice(shapes).format(x=rng.choice(things)), language) for _ in range(NEAR_DOMAIN // 2)]
        held = near["product_records"][language]
        joiner = "" if language == "zh" else " "
        out += [  # 帮我查一下我的季享收益: the product is ours, the record is the client's
            (rng.choice(shapes).format(x=f"{probe.subject}{joiner}{rng.choice(held)}"), language)
            for probe in asked
            if probe.language == language
        ][: NEAR_DOMAIN // 4]
    return out


def _made_up_name(snapshot: Snapshot, rng: random.Random) -> str:
    """A product-like name this content never uses (鑫瑞宝, 恒盛理财)."""
    near = templates()["near_domain"]
    name = ""
    for _ in range(50):
        name = "".join(rng.sample(near["name_characters"], 2)) + rng.choice(near["name_endings"])
        if name not in snapshot.text:
            break
    return name
