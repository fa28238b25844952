"""Who the bot speaks for: the bank's name, hotline and hours, filled into every message at render time
(responses and guard fallbacks say {bank_name}, {hotline} and {hotline_hours}; config.yml's `app` decides)."""

from __future__ import annotations

from pydantic import BaseModel

from bot.language import Language
from bot.settings import AppSettings


class Identity(BaseModel):
    """Who the bot speaks for; filled into every message at render time."""

    bank_name: str
    bank_name_en: str
    hotline: str
    hotline_hours: str = ""
    hotline_hours_en: str = ""

    @classmethod
    def from_settings(cls, app: AppSettings | None = None) -> Identity:
        """From config.yml's `app` section (its defaults when none is given, e.g. in unit tests)."""
        app = app or AppSettings()
        return cls(
            bank_name=app.bank_name,
            bank_name_en=app.bank_name_en,
            hotline=app.hotline,
            hotline_hours=app.hotline_hours,
            hotline_hours_en=app.hotline_hours_en,
        )

    def fill(self, text: str, language: Language) -> str:
        """Replace the identity placeholders only; any other brace in the text is left alone."""
        if "{" not in text:
            return text
        name = self.bank_name if language == "zh" else self.bank_name_en
        hours = self.hotline_hours if language == "zh" else self.hotline_hours_en
        return text.replace("{bank_name}", name).replace("{hotline_hours}", hours).replace("{hotline}", self.hotline)
