"""The voice channel's own approved lines (voice_texts.yml), per language and per script variant."""

from __future__ import annotations

from pathlib import Path

import yaml
from pydantic import BaseModel, Field, ValidationError

from bot.errors import ConfigError
from bot.language import Language

TEXTS_PATH = Path(__file__).with_name("voice_texts.yml")


class VoiceLines(BaseModel):
    """What the call says when Rasa is not the one speaking."""

    fallback_opening: str
    reprompt: str
    silence_goodbye: str
    degraded: str
    closing: str
    transfer: str
    transfer_failed: str
    callback_booked: str
    voicemail: str
    hints: str


class VoiceTexts(BaseModel):
    """Both languages, plus per-script overrides for approved A/B call scripts."""

    zh: VoiceLines
    en: VoiceLines
    scripts: dict[str, dict[Language, dict[str, str]]] = Field(default_factory=dict)

    @classmethod
    def load(cls, path: Path = TEXTS_PATH) -> VoiceTexts:
        """Blocking file read: call at start-up (or from a thread)."""
        try:
            return cls.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))
        except (OSError, yaml.YAMLError, ValidationError) as exc:
            raise ConfigError(f"{path}: cannot load the voice texts: {exc}") from exc

    def for_bank(self, name_zh: str, name_en: str) -> VoiceTexts:
        """The lines with {bank_name} filled in (config.yml app.bank_name / app.bank_name_en)."""

        def fill(lines: VoiceLines, name: str) -> VoiceLines:
            return VoiceLines.model_validate({k: v.replace("{bank_name}", name) for k, v in lines.model_dump().items()})

        scripts = {
            sid: {lang: {k: v.replace("{bank_name}", name_zh if lang == "zh" else name_en) for k, v in ov.items()}
                  for lang, ov in by_lang.items()}
            for sid, by_lang in self.scripts.items()
        }  # fmt: skip
        return VoiceTexts(zh=fill(self.zh, name_zh), en=fill(self.en, name_en), scripts=scripts)

    def lines(self, language: Language, script_id: str | None = None) -> VoiceLines:
        base = self.zh if language == "zh" else self.en
        override = self.scripts.get(script_id or "", {}).get(language)
        return base.model_copy(update=override) if override else base
