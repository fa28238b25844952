"""The channel's canned texts, loaded from texts.yml so wording changes need no code change."""

from __future__ import annotations

from pathlib import Path

import yaml
from pydantic import BaseModel, Field, ValidationError

from bot.errors import ConfigError

TEXTS_PATH = Path(__file__).with_name("texts.yml")
# kf/send_msg and message/send take at most 2048 bytes of text (not characters).
MAX_TEXT_BYTES = 2048


class WeComTexts(BaseModel):
    """Bilingual (Chinese first) texts the channel sends on its own behalf."""

    welcome: str
    non_text: str
    busy: str
    handoff_notice: str
    staff_non_text: str
    leads_not_available: str
    handoff_keywords: list[str] = Field(min_length=1)
    leads_keywords: list[str] = Field(min_length=1)

    @classmethod
    def load(cls, path: Path = TEXTS_PATH) -> WeComTexts:
        """Blocking file read: call it from a thread in async code."""
        try:
            return cls.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))
        except (OSError, yaml.YAMLError, ValidationError) as exc:
            raise ConfigError(f"{path}: cannot load the WeCom texts: {exc}") from exc

    def busy_text(self, hotline: str) -> str:
        return self.busy.format(hotline=hotline)

    def asks_for_human(self, text: str) -> bool:
        lowered = text.casefold()
        return any(k.casefold() in lowered for k in self.handoff_keywords)

    def asks_for_leads(self, text: str) -> bool:
        lowered = text.casefold()
        return any(k.casefold() in lowered for k in self.leads_keywords)


def split_text(text: str, max_bytes: int = MAX_TEXT_BYTES) -> list[str]:
    """Cut text into WeCom-sized pieces, preferring paragraph and line breaks, never inside a character."""
    text = text.strip()
    chunks: list[str] = []
    while len(text.encode()) > max_bytes:
        cut = len(text.encode()[:max_bytes].decode("utf-8", "ignore"))
        window = text[:cut]
        for sep in ("\n\n", "\n", "。", ". ", " "):
            at = window.rfind(sep)
            if at > cut // 2:
                cut = at + len(sep)
                break
        chunks.append(text[:cut].strip())
        text = text[cut:].strip()
    if text:
        chunks.append(text)
    return chunks
