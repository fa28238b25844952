"""Turn Rasa's raw messages into channel-ready messages in the user's language.

The bank's identity is filled in here, at render time: responses say {bank_name} and {hotline}, and
config.yml (app.bank_name, app.bank_name_en, app.hotline) decides what the client reads. Rasa's
domain declares both as slots whose value is their own placeholder, so Rasa passes them through.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from bot.dialogue.models import BotMessage, Citation
from bot.language import Language
from bot.settings import AppSettings

# Message kinds after which the conversation is over (voice hangs up, web shows it ended).
END_KINDS = frozenset({"opt_out", "end_call"})


class Identity(BaseModel):
    """Who the bot speaks for; filled into every message at render time."""

    bank_name: str
    bank_name_en: str
    hotline: str

    @classmethod
    def from_settings(cls, app: AppSettings | None = None) -> Identity:
        """From config.yml's `app` section (its defaults when none is given, e.g. in unit tests)."""
        app = app or AppSettings()
        return cls(bank_name=app.bank_name, bank_name_en=app.bank_name_en, hotline=app.hotline)

    def fill(self, text: str, language: Language) -> str:
        """Replace the identity placeholders only; any other brace in the text is left alone."""
        if "{" not in text:
            return text
        name = self.bank_name if language == "zh" else self.bank_name_en
        return text.replace("{bank_name}", name).replace("{hotline}", self.hotline)


def render(raw: list[dict[str, Any]], language: Language, identity: Identity | None = None) -> list[BotMessage]:
    """Pick each message's text in `language`; bilingual responses carry {"zh", "en"} payloads."""
    who = identity or Identity.from_settings()
    messages: list[BotMessage] = []
    for item in raw:
        custom = item.get("custom") if isinstance(item.get("custom"), dict) else None
        if custom is not None:
            text = custom.get(language) or custom.get("text") or custom.get("zh") or ""
            messages.append(
                BotMessage(
                    text=who.fill(str(text), language),
                    kind=custom.get("kind"),
                    citations=[Citation(**c) for c in custom.get("citations", [])],
                    end_conversation=bool(custom.get("end_conversation", False)) or custom.get("kind") in END_KINDS,
                    risk_level=custom.get("risk_level"),
                    approved=[str(a) for a in custom.get("approved", []) if isinstance(a, str)],
                )
            )
        elif item.get("text"):
            messages.append(BotMessage(text=who.fill(str(item["text"]), language), buttons=item.get("buttons") or []))
    return [m for m in messages if m.text]
