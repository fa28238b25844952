"""Chunks are whole sentences, keep their document's metadata, and read well when quoted."""

from __future__ import annotations

from datetime import date

from bot.knowledge.chunking import Chunker, plain_text, sections
from bot.knowledge.models import Document, Product

APPROVAL = {"id": "A", "approver": "合规部", "approved_at": date(2026, 1, 1)}


def _doc(body: str, **extra: object) -> Document:
    return Document.model_validate(
        {"id": "d1", "title": "标题", "type": "faq", "language": "zh", "approval": APPROVAL, "body": body, **extra}
    )


def test_chinese_text_splits_on_sentence_ends() -> None:
    sentence = "这是一句关于理财产品赎回规则的说明，内容比较长。"
    chunks = Chunker(chunk_size=80, chunk_overlap=10).document(_doc(sentence * 12), source_hash="h")
    assert len(chunks) > 2
    assert all(len(c.text) <= 80 for c in chunks)
    assert all(c.text.endswith("。") for c in chunks)


def test_each_chunk_keeps_the_documents_metadata() -> None:
    doc = _doc(
        "第一段。\n\n## 费用\n管理费每年0.2%。",
        channels=["voice"],
        audience=["C3", "C4"],
        products=["WM1"],
        tags=["费用"],
        valid_until=date(2027, 1, 1),
    )
    chunks = Chunker(chunk_size=400, chunk_overlap=60).document(doc, source_hash="abc")
    assert [c.section for c in chunks] == ["", "费用"]
    for chunk in chunks:
        assert (chunk.cite_id, chunk.title, chunk.channels, chunk.audience) == ("d1", "标题", ["voice"], ["C3", "C4"])
        assert (chunk.products, chunk.tags, chunk.valid_until, chunk.source_hash) == (
            ["WM1"],
            ["费用"],
            date(2027, 1, 1),
            "abc",
        )
    assert chunks[0].id == "doc:d1#0" and chunks[0].source_key == "doc:d1"


def test_markdown_tables_become_readable_sentences() -> None:
    text = plain_text("| 产品 | 管理费 | 赎回费 |\n|---|---|---|\n| 季享 WM002 | 0.20% | 0 |", "zh")
    assert text == "季享 WM002：管理费 0.20%；赎回费 0。"


def test_markdown_markup_is_removed() -> None:
    text = plain_text("- **快速赎回**：实时到账\n> 风险提示：理财非存款\n[官网](https://x)", "zh")
    assert text.splitlines() == ["快速赎回：实时到账。", "风险提示：理财非存款", "官网"]


def test_sections_follow_headings() -> None:
    assert sections("引言\n## A\n甲\n### B\n乙") == [("", "引言"), ("A", "甲"), ("B", "乙")]


def test_a_product_becomes_focused_passages_in_both_languages() -> None:
    product = Product.model_validate(
        {
            "code": "WM1",
            "name": "稳享理财",
            "name_en": "Steady Product",
            "type": "wealth_management",
            "risk_level": "R2",
            "min_amount": 1000,
            "term_days": 90,
            "benchmark": "业绩比较基准2.3%-3.0%",
            "fees": {"管理费": "0.20%/年"},
            "liquidity": "持有满90天可赎回。",
            "description": "投资债券。",
            "status": "closed",
            "approval": APPROVAL,
        }
    )
    chunks = Chunker(chunk_size=400, chunk_overlap=60).product(product, source_hash="h")
    texts = [c.text for c in chunks]
    assert texts[0].startswith("稳享理财（产品代码WM1）是银行理财产品，风险等级R2，CNY 1,000起购，期限90天")
    assert "已停售" in texts[0]
    assert any(t.startswith("稳享理财的费用：管理费0.20%/年") for t in texts)
    english = [c for c in chunks if c.language == "en"]
    assert len(english) == 1 and "Steady Product (WM1" in english[0].text and "management fee" in english[0].text
    assert all(c.cite_id == "WM1" and c.title == "稳享理财" and c.status == "closed" for c in chunks)
    assert chunks[0].product_json and not any(c.product_json for c in chunks[1:])
