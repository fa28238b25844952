"""What the console shows, read from each domain's own service or files (no domain logic lives here).

Plain functions taking what they read from; blocking (database, files): call them from worker threads.
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import date, datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field, ValidationError

from bot.core.audit import AuditEntry
from bot.knowledge.content import scan
from bot.knowledge.ingest import load_last_report
from bot.knowledge.models import Document, Product

AUDIT_LIMIT = 500


class ContentItem(BaseModel):
    """One approved product or document and how long it may still be used."""

    kind: Literal["product", "doc"]
    id: str
    title: str
    file: str
    approval_id: str
    approver: str
    valid_until: date | None
    days_left: int | None
    channels: list[str]


class RejectedItem(BaseModel):
    """Something the last ingestion refused (invalid) or left out (draft, expired, not yet valid)."""

    file: str
    item: str | None
    outcome: str
    reason: str
    problems: list[str] = Field(default_factory=list)


class KnowledgeOverview(BaseModel):
    """The content page: approved items, those expiring soon, and what the last ingest refused."""

    source: str
    ingested_at: datetime | None
    approved: list[ContentItem]
    expiring: list[ContentItem]
    rejected: list[RejectedItem]
    expiring_days: int
    notes: list[str] = Field(default_factory=list)


def _content_item(file: str, content: Product | Document, today: date) -> ContentItem:
    assert content.approval is not None
    is_product = isinstance(content, Product)
    return ContentItem(
        kind="product" if is_product else "doc",
        id=content.code if isinstance(content, Product) else content.id,
        title=content.name if isinstance(content, Product) else content.title,
        file=file,
        approval_id=content.approval.id,
        approver=content.approval.approver,
        valid_until=content.valid_until,
        days_left=(content.valid_until - today).days if content.valid_until else None,
        channels=list(content.channels),
    )


def knowledge_overview(
    *, report_path: Path, default_source: Path, today: date, expiring_days: int
) -> KnowledgeOverview:
    """Approved = valid today in the last ingested folder (and indexed by that ingest, when it is known)."""
    last = load_last_report(report_path)
    notes: list[str] = []
    source = Path(last[1].source) if last else default_source
    if last is None:
        notes.append("尚无入库记录 / No ingestion recorded yet: listing the content folder as it is now.")
    indexed: set[tuple[str, str | None]] | None = None
    rejected: list[RejectedItem] = []
    if last is not None:
        report = last[1]
        indexed = {(i.file, i.item) for i in report.items if i.outcome in ("indexed", "unchanged")}
        rejected = [
            RejectedItem(
                file=i.file,
                item=i.item,
                outcome=i.outcome,
                reason=i.reason,
                problems=[f"{p.field}: {p.message}" for p in i.problems if p.severity == "error"],
            )
            for i in report.items
            if i.outcome in ("invalid", "skipped")
        ]
    approved: list[ContentItem] = []
    if source.is_dir():
        parsed_items, scan_notes = scan(source)
        notes.extend(scan_notes)
        for parsed in parsed_items:
            content = parsed.content
            if content is None or content.validity(today) != "valid":
                continue
            if indexed is not None and (parsed.file, parsed.item) not in indexed:
                continue
            approved.append(_content_item(parsed.file, content, today))
    else:
        notes.append(f"内容目录不存在 / Content folder not found: {source}")
    approved.sort(key=lambda c: (c.valid_until or date.max, c.kind, c.id))
    expiring = [c for c in approved if c.days_left is not None and c.days_left <= expiring_days]
    return KnowledgeOverview(
        source=str(source),
        ingested_at=last[0] if last else None,
        approved=approved,
        expiring=expiring,
        rejected=rejected,
        expiring_days=expiring_days,
        notes=notes,
    )


class AuditRow(BaseModel):
    """One guard block as the console lists it; `text` is filled in for admins only."""

    at: datetime
    rule: str
    channel: str
    source: str
    conversation_id: str | None
    critical: bool
    sha256: str
    text: str | None = None


class AuditPage(BaseModel):
    """The newest blocks first, with counts by rule and channel over everything read."""

    rows: list[AuditRow]
    total: int
    by_rule: dict[str, int]
    by_channel: dict[str, int]
    rules: list[str]
    channels: list[str]
    skipped_lines: int = 0


def _channel(entry: AuditEntry) -> str:
    """gateway.<channel> for the outgoing guard; answers generated by the knowledge service have none."""
    prefix, _, rest = entry.source.partition(".")
    return rest if prefix == "gateway" and rest else "-"


def audit_log(
    path: Path,
    *,
    show_text: bool,
    rule: str | None = None,
    channel: str | None = None,
    limit: int = AUDIT_LIMIT,
) -> AuditPage:
    """Read the JSON-lines audit log; a malformed line is counted, never fatal."""
    entries: list[AuditEntry] = []
    skipped = 0
    try:
        with path.open(encoding="utf-8") as handle:
            for line in handle:
                if not line.strip():
                    continue
                try:
                    entries.append(AuditEntry.model_validate_json(line))
                except ValidationError:
                    skipped += 1
    except FileNotFoundError:
        pass
    by_rule = Counter(e.rule for e in entries)
    by_channel = Counter(_channel(e) for e in entries)
    chosen = [e for e in entries if (rule is None or e.rule == rule) and (channel is None or _channel(e) == channel)]
    chosen.sort(key=lambda e: e.at, reverse=True)
    rows = [
        AuditRow(
            at=e.at,
            rule=e.rule,
            channel=_channel(e),
            source=e.source,
            conversation_id=e.conversation_id,
            critical=e.critical,
            sha256=e.sha256,
            text=e.text if show_text else None,
        )
        for e in chosen[:limit]
    ]
    return AuditPage(
        rows=rows,
        total=len(chosen),
        by_rule=dict(by_rule.most_common()),
        by_channel=dict(by_channel.most_common()),
        rules=sorted(by_rule),
        channels=sorted(by_channel),
        skipped_lines=skipped,
    )


def json_dumps(data: Any) -> str:
    """JSON for embedding in a <script type="application/json"> block (no '</' can close the tag)."""
    return json.dumps(data, ensure_ascii=False, default=str).replace("</", "<\\/")
