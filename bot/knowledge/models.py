"""Typed boundaries of the knowledge base: the content formats (a contract), search hits, answers, reports.

`Product` and `Document` mirror the files an outside evaluation ingests (`products.yml`, `docs/*.md`);
`Answer` is what the Rasa action and `advisor ask --json` return.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from bot.catalogue import CatalogueProduct, ProductStatus, ProductType, is_wealth_type
from bot.core.messages import Citation
from bot.language import Language

Channel = Literal["web", "wecom", "voice"]
CHANNELS: tuple[Channel, ...] = ("web", "wecom", "voice")
AUDIENCES: tuple[str, ...] = ("C1", "C2", "C3", "C4", "C5")
DocType = Literal["faq", "article", "script", "disclosure", "market_view"]
Validity = Literal["valid", "draft", "expired", "not_yet_valid"]
SearchMode = Literal["hybrid", "bm25", "vector"]


def _as_date(value: Any) -> Any:
    """YAML gives `date` or `datetime` (or a string); content validity is by calendar day."""
    return value.date() if isinstance(value, datetime) else value


def _as_list(value: Any) -> Any:
    """`channels: web` and `channels: [web]` both mean one channel; `products: [1001]` means "1001"."""
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    return [str(v) for v in value] if isinstance(value, list) else value


class Approval(BaseModel):
    """Who approved a piece of content, and when (审批权责). Without it, content is a draft."""

    model_config = ConfigDict(extra="ignore")

    id: str = Field(min_length=1)
    approver: str = Field(min_length=1)
    approved_at: date
    # products.yml in the demo nests `valid_until` here; both places are accepted.
    valid_until: date | None = None

    _dates = field_validator("approved_at", "valid_until", mode="before")(_as_date)


class _Approved(BaseModel):
    """Approval and validity window shared by products and documents."""

    approval: Approval | None = None
    valid_from: date | None = None
    valid_until: date | None = None
    channels: list[Channel] = Field(default_factory=lambda: list(CHANNELS))

    _dates = field_validator("valid_from", "valid_until", mode="before")(_as_date)
    _lists = field_validator("channels", mode="before")(_as_list)

    @model_validator(mode="after")
    def _validity_from_approval(self) -> _Approved:
        if self.valid_until is None and self.approval is not None:
            self.valid_until = self.approval.valid_until
        if self.valid_from and self.valid_until and self.valid_from > self.valid_until:
            raise ValueError(f"valid_from {self.valid_from} is after valid_until {self.valid_until}")
        return self

    def validity(self, today: date) -> Validity:
        """Drafts, expired content and content not yet valid are never indexed nor cited."""
        if self.approval is None:
            return "draft"
        if self.valid_until is not None and self.valid_until < today:
            return "expired"
        if self.valid_from is not None and self.valid_from > today:
            return "not_yet_valid"
        return "valid"


class Product(_Approved):
    """One catalogue product (products.yml). Closed or suspended products are described, never recommended."""

    model_config = ConfigDict(extra="ignore")

    code: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._-]+$")
    name: str = Field(min_length=1)
    name_en: str | None = None
    aliases: list[str] = Field(default_factory=list)
    type: ProductType
    risk_level: str = Field(pattern=r"^R[1-5]$")
    currency: str = "CNY"
    min_amount: float | None = Field(default=None, ge=0)
    term_days: int | None = Field(default=None, ge=0)
    benchmark: str | None = None
    fees: dict[str, str] = Field(default_factory=dict)
    liquidity: str | None = None
    description: str = Field(min_length=1)
    status: ProductStatus

    @field_validator("fees", mode="before")
    @classmethod
    def _fee_texts(cls, value: Any) -> Any:
        """`申购费: 0` in YAML is a number; fees are shown as text."""
        if isinstance(value, dict):
            return {str(k): "" if v is None else str(v) for k, v in value.items()}
        return value

    _alias_list = field_validator("aliases", mode="before")(_as_list)

    @property
    def is_wealth(self) -> bool:
        return is_wealth_type(self.type)

    def entry(self) -> CatalogueProduct:
        """The catalogue's view of this product (names, type, level, status)."""
        return CatalogueProduct(
            code=self.code,
            name=self.name,
            name_en=self.name_en,
            aliases=tuple(a.strip() for a in self.aliases if a.strip()),
            type=self.type,
            risk_level=self.risk_level,
            status=self.status,
        )


class Document(_Approved):
    """One Markdown document with YAML front matter (docs/*.md)."""

    model_config = ConfigDict(extra="ignore")

    id: str = Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9._:-]+$")
    title: str = Field(min_length=1)
    type: DocType
    language: Language
    audience: list[str] = Field(default_factory=lambda: ["all"])
    products: list[str] = Field(default_factory=list)
    tags: list[str] = Field(default_factory=list)
    body: str = Field(min_length=1)

    _more_lists = field_validator("audience", "products", "tags", mode="before")(_as_list)

    @field_validator("audience")
    @classmethod
    def _known_audience(cls, value: list[str]) -> list[str]:
        allowed = {*AUDIENCES, "all"}
        bad = [a for a in value if a not in allowed]
        if bad:
            raise ValueError(f"unknown audience {bad}; use C1-C5 or all")
        return value or ["all"]


class Chunk(BaseModel):
    """A retrievable passage with its source's metadata; what the store holds."""

    id: str
    source_key: str  # "doc:<id>" or "product:<code>"
    cite_id: str
    title: str
    text: str
    section: str = ""
    kind: Literal["doc", "product"]
    doc_type: str
    language: Language
    channels: list[str]
    audience: list[str]
    products: list[str]
    tags: list[str] = Field(default_factory=list)
    status: str = ""
    valid_from: date | None = None
    valid_until: date | None = None
    source_hash: str
    product_json: str = ""  # only on a product's first chunk: lets the catalogue be rebuilt from the index


class Hit(BaseModel):
    """One ranked chunk. `relevance` (0-1) is what the answer threshold is compared with."""

    rank: int
    chunk_id: str
    id: str
    title: str
    text: str
    section: str = ""
    kind: Literal["doc", "product"]
    doc_type: str
    language: Language
    products: list[str] = Field(default_factory=list)
    status: str = ""
    score: float  # fused reciprocal-rank score (ordering only)
    relevance: float  # 0-1: the answer gate's confidence that this source answers the question
    coverage: float  # idf-weighted share of the query's terms found in the passage
    similarity: float  # cosine similarity of the embeddings
    bm25_rank: int | None = None
    vector_rank: int | None = None
    title_rank: int | None = None  # rank of the source's title (or product names) among all titles
    about_named: bool = False  # the question names a catalogue product this source is about
    # The source's other passages usable here, in the hit's language and document order: the gate judged
    # the source on `text`, a quote takes whichever passage speaks to the question. Internal.
    passages: list[str] = Field(default_factory=list, exclude=True)

    @property
    def citation(self) -> Citation:
        return Citation(id=self.id, title=self.title)


class Retrieval(BaseModel):
    """What retrieval hands the answer composer: ranked evidence, the products in play, and the gate's call.

    The seam between finding content (search, the calibrated answer gate) and saying it (extractive or
    generative composition): composers never re-rank and never re-decide whether to answer.
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)

    query: str
    language: Language
    hits: list[Hit]  # ranked, usable today on this channel for this audience
    products: list[Product] = Field(default_factory=list)  # catalogue products the question is about, in order
    catalogue: dict[str, Product] = Field(default_factory=dict)  # the whole current catalogue by code
    answerable: bool  # the answer gate's decision
    confidence: float = 0.0  # the gate's score, 0-1 (logs, `kb evaluate`)
    reason: str = ""  # why the gate answered or declined
    ranked: list[Hit] = Field(default_factory=list)  # every ranked source before the gate (evaluation)

    @property
    def evidence(self) -> list[Hit]:
        """The hits an answer may quote (empty when the gate declined)."""
        return self.hits if self.answerable else []


class Answer(BaseModel):
    """A reply drawn from approved content only, or a polite decline offering a human advisor."""

    answer: str
    citations: list[Citation]
    grounded: bool
    mode: Literal["extractive", "generative"]
    disclosures: list[str]
    # Texts the answer quotes verbatim from approved content (passages, titles, product fields): the
    # outgoing guard skips claim rules inside them once it has checked they are approved. Never LLM text.
    # Internal: not part of the `advisor ask --json` contract.
    approved: list[str] = Field(default_factory=list, exclude=True)


class Problem(BaseModel):
    """One thing wrong (or worth knowing) about one field of one file."""

    field: str
    message: str
    severity: Literal["error", "warning"] = "error"


Outcome = Literal["indexed", "unchanged", "skipped", "invalid"]


class ItemReport(BaseModel):
    """What ingestion did with one document or product."""

    file: str
    item: str | None = None
    outcome: Outcome
    reason: str = ""
    chunks: int = 0
    problems: list[Problem] = Field(default_factory=list)

    def describe(self) -> str:
        where = f"{self.file}" + (f" [{self.item}]" if self.item else "")
        lines = [f"{self.outcome:9s} {where}" + (f": {self.reason}" if self.reason else "")]
        lines += [f"          - {p.severity}: {p.field}: {p.message}" for p in self.problems]
        return "\n".join(lines)


class IngestReport(BaseModel):
    """Per-file, per-field outcome of one ingestion run; bad files never stop the rest."""

    source: str
    items: list[ItemReport] = Field(default_factory=list)
    removed: list[str] = Field(default_factory=list)
    reset: bool = False
    notes: list[str] = Field(default_factory=list)
    gate: list[str] = Field(default_factory=list)  # what the answer gate was calibrated on, and how well

    def count(self, outcome: Outcome) -> int:
        return sum(1 for item in self.items if item.outcome == outcome)

    @property
    def ok(self) -> bool:
        return self.count("invalid") == 0

    @property
    def chunks(self) -> int:
        return sum(item.chunks for item in self.items if item.outcome == "indexed")

    def summary(self) -> str:
        """One line for logs and `make run`."""
        return (
            f"{self.count('indexed')} indexed ({self.chunks} chunks), {self.count('unchanged')} unchanged, "
            f"{self.count('skipped')} skipped, {self.count('invalid')} invalid, {len(self.removed)} removed"
            + (" (index was reset)" if self.reset else "")
        )

    def details(self) -> str:
        """The full per-file report a content editor reads."""
        lines = [f"Source: {self.source}", *self.notes]
        lines += [item.describe() for item in self.items if item.outcome != "unchanged" or item.problems]
        lines += [f"removed   {key}" for key in self.removed]
        lines.append(self.summary())
        lines += self.gate
        return "\n".join(lines)
