"""Suggested questions: configured ones first, questions only, and a knowledge store that is down."""

from __future__ import annotations

from bot.channels.web.welcome import suggestions
from bot.core.messages import Citation
from bot.errors import KnowledgeUnavailable
from bot.language import Language
from bot.settings import WebChatSettings


class Faqs:
    def __init__(self, docs: list[Citation] | None = None) -> None:
        self.docs = docs
        self.asked: list[dict[str, str]] = []

    def documents(self, *, doc_type: str, channel: str, language: Language) -> list[Citation]:
        self.asked.append({"doc_type": doc_type, "channel": channel, "language": language})
        if self.docs is None:
            raise KnowledgeUnavailable("chroma is down")
        return self.docs


DOCS = [Citation(id=f"faq-{i}", title=f"问题{i}？") for i in range(8)] + [Citation(id="faq-list", title="费率一览")]


def test_configured_faqs_first_then_by_id_and_only_questions() -> None:
    source = Faqs(DOCS)
    web = WebChatSettings(suggestions=4, suggested_faqs=["faq-6", "missing", "faq-list", "faq-2"])
    assert [d.id for d in suggestions(source, language="zh", web=web)] == ["faq-6", "faq-2", "faq-0", "faq-1"]
    assert source.asked == [{"doc_type": "faq", "channel": "web", "language": "zh"}]


def test_none_when_turned_off_or_the_store_is_down() -> None:
    assert suggestions(Faqs(DOCS), language="zh", web=WebChatSettings(suggestions=0)) == []
    assert suggestions(Faqs(None), language="en", web=WebChatSettings()) == []
