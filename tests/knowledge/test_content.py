"""Content files are validated per file and field; bad ones never stop the rest."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

from bot.knowledge.content import read_document, read_products, scan
from bot.knowledge.models import Document, Product
from tests.knowledge.conftest import TODAY


def _fields(parsed: object) -> set[str]:
    return {p.field for p in parsed.problems if p.severity == "error"}  # type: ignore[attr-defined]


def test_scan_reads_products_and_documents_and_reports_each_bad_one(corpus: Path) -> None:
    items, notes = scan(corpus)
    by_item = {(p.file, p.item): p for p in items}
    assert not notes
    good = [p for p in items if p.content is not None]
    assert {p.key for p in good} >= {"product:WM100", "product:WM200", "doc:faq-redeem-zh", "doc:faq-draft-zh"}
    bad_product = by_item[("products.yml", "BAD1")]
    assert bad_product.content is None
    assert {"type", "risk_level", "description"} <= _fields(bad_product)
    broken = by_item[("docs/broken.md", "broken")]
    assert {"type", "language"} <= _fields(broken)
    assert _fields(by_item[("docs/no-front-matter.md", None)]) == {"(front matter)"}


def test_problems_name_the_field_and_the_bad_value(tmp_path: Path) -> None:
    (tmp_path / "products.yml").write_text("- {code: X1, name: n, type: fund, risk_level: R2}\n", encoding="utf-8")
    [parsed] = read_products(tmp_path / "products.yml", tmp_path)
    problem = next(p for p in parsed.problems if p.field == "type")
    assert "fund" in problem.message and "wealth_management" in problem.message


def test_products_file_must_be_a_list(tmp_path: Path) -> None:
    (tmp_path / "products.yml").write_text("code: X1\n", encoding="utf-8")
    [parsed] = read_products(tmp_path / "products.yml", tmp_path)
    assert parsed.problems[0].field == "(file)"


def test_yaml_syntax_error_is_reported_not_raised(tmp_path: Path) -> None:
    (tmp_path / "docs").mkdir()
    path = tmp_path / "docs" / "x.md"
    path.write_text("---\nid: [unclosed\n---\nbody\n", encoding="utf-8")
    parsed = read_document(path, tmp_path)
    assert parsed.content is None and parsed.problems[0].field == "(front matter)"


def test_duplicate_ids_keep_the_first(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    for name in ("a.md", "b.md"):
        (docs / name).write_text("---\nid: same\ntitle: t\ntype: faq\nlanguage: zh\n---\n正文。\n", encoding="utf-8")
    items, _ = scan(tmp_path)
    assert [p.content is not None for p in items] == [True, False]
    assert "duplicate id" in items[1].problems[-1].message


def test_warnings_for_typos_missing_channels_and_no_expiry(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.md").write_text(
        "---\nid: a\ntitle: t\ntype: faq\nlanguage: zh\nvalid_untill: 2027-01-01\n---\n正文。\n", encoding="utf-8"
    )
    [parsed] = scan(tmp_path)[0]
    warnings = {p.field for p in parsed.problems if p.severity == "warning"}
    assert {"valid_untill", "channels", "valid_until"} <= warnings
    assert parsed.content is not None  # warnings do not stop indexing


def test_validity_rules() -> None:
    base = {"id": "d", "title": "t", "type": "faq", "language": "zh", "body": "正文"}
    approval = {"id": "A", "approver": "合规部", "approved_at": date(2026, 1, 1)}
    assert Document.model_validate(base).validity(TODAY) == "draft"
    expired = Document.model_validate({**base, "approval": approval, "valid_until": date(2026, 11, 23)})
    assert expired.validity(TODAY) == "expired"
    last_day = Document.model_validate({**base, "approval": approval, "valid_until": TODAY})
    assert last_day.validity(TODAY) == "valid"
    future = Document.model_validate({**base, "approval": approval, "valid_from": date(2026, 12, 1)})
    assert future.validity(TODAY) == "not_yet_valid"


def test_lenient_shapes_are_normalised() -> None:
    doc = Document.model_validate(
        {
            "id": "d",
            "title": "t",
            "type": "faq",
            "language": "en",
            "body": "b",
            "channels": "voice",
            "audience": "all",
            "products": [1001],
            "approval": {"id": "A", "approver": "x", "approved_at": datetime(2026, 1, 1, 0, 0)},
        }
    )
    assert doc.channels == ["voice"] and doc.audience == ["all"] and doc.products == ["1001"]
    product = Product.model_validate(
        {
            "code": "P1",
            "name": "n",
            "type": "deposit",
            "risk_level": "R1",
            "description": "d",
            "status": "on_sale",
            "fees": {"申购费": 0},
            "approval": {"id": "A", "approver": "x", "approved_at": "2026-01-01", "valid_until": "2027-01-01"},
        }
    )
    assert product.fees == {"申购费": "0"}
    assert product.valid_until == date(2027, 1, 1)  # nested under approval, as in the demo catalogue
    assert not product.is_wealth
