"""Reading and validating content files: `products.yml` and `docs/*.md` (YAML front matter).

Every problem is reported with its file and field; a bad file (or a bad product in products.yml)
never stops the others.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from bot.knowledge.models import Document, Problem, Product

_FRONT_MATTER = re.compile(r"\A\ufeff?---[ \t]*\r?\n(.*?)\r?\n---[ \t]*(?:\r?\n|\Z)(.*)\Z", re.S)
PRODUCT_FILES = ("products.yml", "products.yaml")


@dataclass
class Parsed:
    """One product or document read from a file: the model, or the problems that stopped it."""

    file: str
    item: str | None
    key: str | None = None
    content: Product | Document | None = None
    problems: list[Problem] = field(default_factory=list)

    @property
    def content_hash(self) -> str:
        """Hash of the validated content (not the file bytes: re-formatting YAML changes nothing)."""
        assert self.content is not None
        return hashlib.sha256(self.content.model_dump_json().encode("utf-8")).hexdigest()


def _problems(exc: ValidationError) -> list[Problem]:
    out = []
    for err in exc.errors():
        loc = ".".join(str(part) for part in err.get("loc", ())) or "(item)"
        value = err.get("input")
        shown = f" (got {value!r:.60})" if not isinstance(value, dict) and value is not None else ""
        out.append(Problem(field=loc, message=f"{err.get('msg', 'invalid')}{shown}"))
    return out


def _warnings(raw: dict[str, Any], model: type[BaseModel]) -> list[Problem]:
    """Typos in optional keys would silently change meaning (e.g. `valid_untill`): say so."""
    out = []
    known = set(model.model_fields)
    for key in raw:
        if key not in known:
            out.append(Problem(field=str(key), message="unknown field, ignored", severity="warning"))
    if "channels" not in raw:
        out.append(Problem(field="channels", message="missing; allowed on web, wecom and voice", severity="warning"))
    approval = raw.get("approval")
    if "valid_until" not in raw and not (isinstance(approval, dict) and approval.get("valid_until")):
        out.append(Problem(field="valid_until", message="missing: approved content should expire", severity="warning"))
    return out


def _validate(model: type[Product] | type[Document], raw: dict[str, Any], parsed: Parsed) -> None:
    try:
        content = model.model_validate(raw)
    except ValidationError as exc:
        parsed.problems.extend(_problems(exc))
        return
    parsed.problems.extend(_warnings(raw, model))
    parsed.content = content
    parsed.key = f"product:{content.code}" if isinstance(content, Product) else f"doc:{content.id}"


def read_products(path: Path, root: Path) -> list[Parsed]:
    """Each product of a products.yml, validated on its own."""
    name = path.relative_to(root).as_posix()
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        return [Parsed(file=name, item=None, problems=[Problem(field="(file)", message=_short(exc))])]
    if isinstance(data, dict) and isinstance(data.get("products"), list):
        data = data["products"]
    if not isinstance(data, list):
        problem = Problem(field="(file)", message="must be a YAML list of products")
        return [Parsed(file=name, item=None, problems=[problem])]
    out = []
    for position, raw in enumerate(data, start=1):
        code = raw.get("code") if isinstance(raw, dict) else None
        parsed = Parsed(file=name, item=str(code) if code else f"item {position}")
        if not isinstance(raw, dict):
            parsed.problems.append(Problem(field="(item)", message="must be a mapping of product fields"))
        else:
            _validate(Product, raw, parsed)
        out.append(parsed)
    return out


def read_document(path: Path, root: Path) -> Parsed:
    """One Markdown document; its front matter is validated, its body must not be empty."""
    name = path.relative_to(root).as_posix()
    parsed = Parsed(file=name, item=None)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        parsed.problems.append(Problem(field="(file)", message=_short(exc)))
        return parsed
    match = _FRONT_MATTER.match(text)
    if not match:
        parsed.problems.append(Problem(field="(front matter)", message="missing: start the file with ---"))
        return parsed
    try:
        meta = yaml.safe_load(match.group(1))
    except yaml.YAMLError as exc:
        parsed.problems.append(Problem(field="(front matter)", message=_short(exc)))
        return parsed
    if not isinstance(meta, dict):
        parsed.problems.append(Problem(field="(front matter)", message="must be a YAML mapping"))
        return parsed
    parsed.item = str(meta.get("id")) if meta.get("id") else None
    if "body" in meta:
        parsed.problems.append(Problem(field="body", message="reserved: the body is the text after ---"))
        return parsed
    _validate(Document, {**meta, "body": match.group(2).strip()}, parsed)
    return parsed


def scan(folder: Path) -> tuple[list[Parsed], list[str]]:
    """All items of a content folder (products.yml and/or docs/**/*.md), plus notes for the report."""
    notes: list[str] = []
    items: list[Parsed] = []
    product_files = [folder / n for n in PRODUCT_FILES if (folder / n).is_file()]
    for path in product_files:
        items.extend(read_products(path, folder))
    doc_files = sorted((folder / "docs").rglob("*.md")) if (folder / "docs").is_dir() else []
    for path in doc_files:
        items.append(read_document(path, folder))
    if not product_files and not doc_files:
        notes.append(f"note: {folder} holds neither products.yml nor docs/*.md")
    _flag_duplicates(items)
    return items, notes


def _flag_duplicates(items: list[Parsed]) -> None:
    """Ids must be unique: a second item with the same id is refused, the first is kept."""
    seen: dict[str, str] = {}
    for parsed in items:
        if parsed.key is None:
            continue
        if parsed.key in seen:
            label = "code" if parsed.key.startswith("product:") else "id"
            parsed.problems.append(Problem(field=label, message=f"duplicate {label}, first in {seen[parsed.key]}"))
            parsed.content, parsed.key = None, None
        else:
            seen[parsed.key] = parsed.file


def _short(exc: Exception) -> str:
    return " ".join(str(exc).split())[:300]
