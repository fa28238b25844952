"""Approved call scripts: knowledge_base documents of type `script`, valid today and allowed on voice."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from pathlib import Path

from bot.errors import InputError
from bot.knowledge.content import read_document
from bot.knowledge.models import Document


def approved_scripts(source_dir: Path, *, today: date) -> dict[str, Document]:
    """Script documents by id that may be used on a call today."""
    out: dict[str, Document] = {}
    docs = source_dir / "docs"
    for path in sorted(docs.rglob("*.md")) if docs.is_dir() else []:
        parsed = read_document(path, source_dir)
        doc = parsed.content
        usable = isinstance(doc, Document) and doc.type == "script" and doc.validity(today) == "valid"
        if usable and isinstance(doc, Document) and "voice" in doc.channels:
            out[doc.id] = doc
    return out


def check_scripts(script_ids: Iterable[str | None], *, source_dir: Path, today: date) -> None:
    """Refuse a plan naming a script that is not approved, valid today and voice-enabled."""
    approved = approved_scripts(source_dir, today=today)
    missing = sorted({s for s in script_ids if s} - set(approved))
    if missing:
        known = ", ".join(sorted(approved)) or "none"
        raise InputError(f"call script(s) not approved for voice today: {', '.join(missing)} (approved: {known})")
