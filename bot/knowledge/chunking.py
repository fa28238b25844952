"""Turning documents and products into retrievable chunks that keep their source's metadata.

Documents are split by Markdown heading, then by langchain's recursive splitter on Chinese and
English sentence ends (。！？； …), so a chunk is whole sentences. Tables become one sentence per
row ("header value; …") because a quoted Markdown table row is unreadable in chat or on a call.
A product becomes a few focused passages (profile, description, fees, liquidity, benchmark,
an English profile), so a fee question lands on the fee passage.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from langchain_text_splitters import RecursiveCharacterTextSplitter

from bot.knowledge.models import Chunk, Document, Product

LABELS_FILE = Path(__file__).parent / "data" / "product_labels.yml"
SEPARATORS = ["\n\n", "\n", "。", "！", "？", "；", "!", "?", ";", ". ", "，", ", ", " ", ""]
_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+(.*?)\s*#*\s*$")
_TABLE_RULE = re.compile(r"^\s*\|?\s*:?-{2,}:?\s*(\|\s*:?-{2,}:?\s*)*\|?\s*$")
_INLINE = [
    (re.compile(r"!\[[^\]]*\]\([^)]*\)"), ""),  # images
    (re.compile(r"\[([^\]]+)\]\([^)]*\)"), r"\1"),  # links → their text
    (re.compile(r"(\*\*|__)(.+?)\1"), r"\2"),  # bold
    (re.compile(r"`([^`]+)`"), r"\1"),  # code
]
_BULLET = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+")
_QUOTE = re.compile(r"^\s*>\s?")
_SENTENCE_END = ("。", "！", "？", "；", ".", "!", "?", ";", "：", ":")


@lru_cache(maxsize=1)
def labels() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(LABELS_FILE.read_text(encoding="utf-8"))
    return data


def _cells(line: str) -> list[str]:
    return [cell.strip() for cell in line.strip().strip("|").split("|")]


def _end(text: str, language: str) -> str:
    text = text.rstrip()
    return text if not text or text.endswith(_SENTENCE_END) else text + ("。" if language == "zh" else ".")


def plain_text(markdown: str, language: str) -> str:
    """Markdown → readable plain text, one sentence-ended line per list item or table row."""
    lines = markdown.splitlines()
    out: list[str] = []
    header: list[str] | None = None
    sep = "；" if language == "zh" else "; "
    colon = "：" if language == "zh" else ": "
    for index, line in enumerate(lines):
        stripped = line.strip()
        if stripped.startswith("|"):
            nxt = lines[index + 1] if index + 1 < len(lines) else ""
            if header is None and _TABLE_RULE.match(nxt):
                header = _cells(stripped)
                continue
            if _TABLE_RULE.match(stripped):
                continue
            cells = _cells(stripped)
            if header and len(cells) == len(header):
                pairs = [f"{h} {c}" for h, c in zip(header[1:], cells[1:], strict=True) if c]
                out.append(_end(cells[0] + colon + sep.join(pairs), language))
            else:
                out.append(_end(" ".join(c for c in cells if c), language))
            continue
        header = None
        for pattern, repl in _INLINE:
            stripped = pattern.sub(repl, stripped)
        stripped = _QUOTE.sub("", stripped)
        if _BULLET.match(stripped):
            stripped = _end(_BULLET.sub("", stripped), language)
        out.append(stripped)
    text = "\n".join(out)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def sections(markdown: str) -> list[tuple[str, str]]:
    """(heading, body) pairs; text before the first heading has an empty heading."""
    out: list[tuple[str, list[str]]] = [("", [])]
    for line in markdown.splitlines():
        match = _HEADING.match(line)
        if match:
            out.append((match.group(1).strip(), []))
        else:
            out[-1][1].append(line)
    return [(heading, "\n".join(body).strip()) for heading, body in out if "\n".join(body).strip()]


class Chunker:
    """Splits content into chunks of about `chunk_size` characters on sentence boundaries."""

    def __init__(self, *, chunk_size: int, chunk_overlap: int) -> None:
        self._splitter = RecursiveCharacterTextSplitter(
            separators=SEPARATORS,
            chunk_size=chunk_size,
            chunk_overlap=chunk_overlap,
            keep_separator="end",
            strip_whitespace=True,
        )
        self.fingerprint = f"chunks:{chunk_size}:{chunk_overlap}:v2"

    def document(self, doc: Document, *, source_hash: str) -> list[Chunk]:
        """A document's chunks; each carries the document's metadata."""
        texts: list[tuple[str, str]] = []
        for heading, body in sections(doc.body):
            for piece in self._splitter.split_text(plain_text(body, doc.language)):
                texts.append((heading, piece))
        return [
            Chunk(
                id=f"doc:{doc.id}#{n}",
                source_key=f"doc:{doc.id}",
                cite_id=doc.id,
                title=doc.title,
                text=text,
                section=heading,
                kind="doc",
                doc_type=doc.type,
                language=doc.language,
                channels=list(doc.channels),
                audience=list(doc.audience),
                products=list(doc.products),
                tags=list(doc.tags),
                valid_from=doc.valid_from,
                valid_until=doc.valid_until,
                source_hash=source_hash,
            )
            for n, (heading, text) in enumerate(texts)
        ]

    def product(self, product: Product, *, source_hash: str) -> list[Chunk]:
        """A product as focused passages; the first carries the product itself for the catalogue."""
        passages = [(p, "zh") for p in self._product_zh(product)]
        if product.name_en:
            passages.append((self._product_en(product), "en"))
        return [
            Chunk(
                id=f"product:{product.code}#{n}",
                source_key=f"product:{product.code}",
                cite_id=product.code,
                title=product.name,
                text=text,
                kind="product",
                doc_type=product.type,
                language="zh" if language == "zh" else "en",
                channels=list(product.channels),
                audience=["all"],
                products=[product.code],
                tags=list(product.aliases),  # indexed with the passage: clients say the alias, not the name
                status=product.status,
                valid_from=product.valid_from,
                valid_until=product.valid_until,
                source_hash=source_hash,
                product_json=product.model_dump_json() if n == 0 else "",
            )
            for n, (text, language) in enumerate(passages)
        ]

    def _product_zh(self, product: Product) -> list[str]:
        zh = labels()["zh"]
        term = zh["term"].format(days=product.term_days) if product.term_days else zh["open_ended"]
        minimum = (
            zh["minimum"].format(currency=product.currency, amount=_amount(product.min_amount))
            if product.min_amount is not None
            else zh["no_minimum"]
        )
        profile = zh["profile"].format(
            name=product.name,
            code=product.code,
            type=labels()["types"][product.type]["zh"],
            risk_level=product.risk_level,
            minimum=minimum,
            term=term,
            status=labels()["status"][product.status]["zh"],
        )
        out = [profile]
        out += [f"{product.name}：{piece}" for piece in self._splitter.split_text(product.description)]
        if product.fees:
            fees = "；".join(f"{name}{value}" for name, value in product.fees.items())
            out.append(_end(zh["fees"].format(name=product.name) + fees, "zh"))
        if product.liquidity:
            out.append(_end(zh["liquidity"].format(name=product.name) + product.liquidity, "zh"))
        if product.benchmark:
            out.append(_end(zh["benchmark"].format(name=product.name) + product.benchmark, "zh"))
        return out

    @staticmethod
    def _product_en(product: Product) -> str:
        en = labels()["en"]
        term = en["term"].format(days=product.term_days) if product.term_days else en["open_ended"]
        minimum = (
            en["minimum"].format(currency=product.currency, amount=_amount(product.min_amount))
            if product.min_amount is not None
            else en["no_minimum"]
        )
        parts = [
            en["profile"].format(
                name_en=product.name_en,
                name=product.name,
                code=product.code,
                type=labels()["types"][product.type]["en"],
                risk_level=product.risk_level,
                minimum=minimum,
                term=term,
                status=labels()["status"][product.status]["en"],
            )
        ]
        if product.fees:
            names = labels()["fees"]
            fees = "; ".join(f"{names.get(k, k)} {v}" for k, v in product.fees.items())
            parts.append(en["fees"].format(name_en=product.name_en, code=product.code) + fees + ".")
        return "\n".join(parts)


def _amount(value: float | None) -> str:
    if value is None:
        return ""
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2f}"
