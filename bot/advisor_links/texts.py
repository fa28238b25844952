"""The approved wording around the advisor's link (texts.yml), filled in and passed through the compliance guard."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ValidationError

from bot.compliance import check
from bot.errors import ConfigError
from bot.language import Language

TEXTS_PATH = Path(__file__).with_name("texts.yml")
TextName = Literal["offer", "sms", "chat_link", "welcome"]
WELCOME_MAX_BYTES = 4000  # send_welcome_msg: text.content is at most 4000 bytes


class Bilingual(BaseModel):
    zh: str
    en: str


class _TextsFile(BaseModel):
    offer: Bilingual
    sms: Bilingual
    chat_link: Bilingual
    welcome: Bilingual


@dataclass(frozen=True)
class Identity:
    """Who the texts speak for: the bank's names, its hotline, and how advisors are named."""

    bank_name: str
    bank_name_en: str
    hotline: str
    advisor_names: Mapping[str, Mapping[str, str]]

    def advisor(self, advisor_id: str, language: Language) -> str:
        """The advisor's configured name in `language` (channels.wecom.advisor_names), else their userid."""
        names = self.advisor_names.get(advisor_id, {})
        return names.get(language) or names.get("zh") or advisor_id


class GuardBlocked(ConfigError):
    """An approved text, filled in, fails the compliance guard: it is never sent."""


class LinkTexts:
    """Renders the link texts in the client's language; every rendering is checked by the guard."""

    def __init__(self, texts: _TextsFile, identity: Identity) -> None:
        self._texts = texts
        self._identity = identity

    @classmethod
    def load(cls, identity: Identity, path: Path = TEXTS_PATH) -> LinkTexts:
        """Blocking file read (call from a thread in async code); checks every text with a sample link."""
        try:
            texts = cls(_TextsFile.model_validate(yaml.safe_load(path.read_text(encoding="utf-8"))), identity)
        except (OSError, yaml.YAMLError, ValidationError) as exc:
            raise ConfigError(f"{path}: cannot load the link texts: {exc}") from exc
        for name in ("offer", "sms", "chat_link", "welcome"):
            for language in ("zh", "en"):
                texts.render(name, language, advisor_id="advisor", link="https://example.invalid/qr")
        return texts

    def render(self, name: TextName, language: Language, *, advisor_id: str, link: str = "") -> str:
        """The text filled in; raises GuardBlocked when the guard finds a violation in it."""
        template: str = getattr(self._texts, name).model_dump()[language]
        bank = self._identity.bank_name if language == "zh" else self._identity.bank_name_en
        text = template.format(
            bank_name=bank, advisor=self._identity.advisor(advisor_id, language), link=link,
            hotline=self._identity.hotline,
        )  # fmt: skip
        verdict = check(text, language=language)
        if not verdict.ok:
            raise GuardBlocked(f"texts.yml {name}.{language} fails the compliance guard: {verdict.violations}")
        if name == "welcome" and len(text.encode("utf-8")) > WELCOME_MAX_BYTES:
            raise GuardBlocked(f"texts.yml welcome.{language} is over WeCom's {WELCOME_MAX_BYTES} bytes")
        return text
