"""The chat page's first screen: a greeting naming the bank, and suggested questions taken from the
approved FAQ documents that are actually ingested and valid today for the web channel."""

from __future__ import annotations

import logging
from functools import lru_cache
from pathlib import Path
from typing import Protocol

import yaml
from pydantic import BaseModel, ValidationError

from bot.core.messages import Citation
from bot.errors import ConfigError, KnowledgeUnavailable
from bot.language import Language
from bot.settings import AppSettings, WebChatSettings

logger = logging.getLogger(__name__)
TEXTS_PATH = Path(__file__).with_name("texts.yml")


class FaqSource(Protocol):
    """Lists approved documents (bot.knowledge.service.KnowledgeService satisfies it)."""

    def documents(self, *, doc_type: str, channel: str, language: Language) -> list[Citation]: ...


class Bilingual(BaseModel):
    zh: str
    en: str


class WebTexts(BaseModel):
    """The page's own texts (texts.yml)."""

    greeting: Bilingual
    suggestions_title: Bilingual


@lru_cache(maxsize=1)
def web_texts(path: Path = TEXTS_PATH) -> WebTexts:
    """Read once (a small file; the first call happens at the first page load)."""
    try:
        return WebTexts.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))
    except (OSError, yaml.YAMLError, ValidationError) as exc:
        raise ConfigError(f"{path}: cannot load the web chat texts: {exc}") from exc


def greeting(app: AppSettings) -> Bilingual:
    """The greeting in both languages, naming the bank from config.yml."""
    texts = web_texts()
    names = {"bank_name": app.bank_name, "bank_name_en": app.bank_name_en}
    return Bilingual(zh=texts.greeting.zh.format(**names), en=texts.greeting.en.format(**names))


def suggestions(source: FaqSource, *, language: Language, web: WebChatSettings) -> list[Citation]:
    """Up to `web.suggestions` FAQ titles phrased as questions: configured ones first, then by id.

    Blocking (it may open the knowledge store): run it in a thread. A knowledge store that is down
    means no suggestions, never a broken page.
    """
    if web.suggestions == 0:
        return []
    try:
        docs = source.documents(doc_type="faq", channel="web", language=language)
    except KnowledgeUnavailable as exc:
        logger.warning("knowledge store unavailable; no suggested questions: %s", exc)
        return []
    pinned = {doc_id: i for i, doc_id in enumerate(web.suggested_faqs)}
    questions = [d for d in docs if d.title.rstrip().endswith(("?", "？"))]
    questions.sort(key=lambda d: (pinned.get(d.id, len(pinned)), d.id))
    return questions[: web.suggestions]
