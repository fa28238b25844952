"""Turn Rasa's raw messages into channel-ready messages in the user's language."""

from __future__ import annotations

from typing import Any

from bot.dialogue.models import BotMessage, Citation
from bot.language import Language

# Message kinds after which the conversation is over (voice hangs up, web shows it ended).
END_KINDS = frozenset({"opt_out", "end_call"})


def render(raw: list[dict[str, Any]], language: Language) -> list[BotMessage]:
    """Pick each message's text in `language`; bilingual responses carry {"zh", "en"} payloads."""
    messages: list[BotMessage] = []
    for item in raw:
        custom = item.get("custom") if isinstance(item.get("custom"), dict) else None
        if custom is not None:
            text = custom.get(language) or custom.get("text") or custom.get("zh") or ""
            messages.append(
                BotMessage(
                    text=str(text),
                    kind=custom.get("kind"),
                    citations=[Citation(**c) for c in custom.get("citations", [])],
                    end_conversation=bool(custom.get("end_conversation", False)) or custom.get("kind") in END_KINDS,
                    risk_level=custom.get("risk_level"),
                )
            )
        elif item.get("text"):
            messages.append(BotMessage(text=str(item["text"]), buttons=item.get("buttons") or []))
    return [m for m in messages if m.text]
