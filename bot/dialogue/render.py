"""Turn Rasa's raw messages into channel-ready messages in the user's language."""

from __future__ import annotations

from typing import Any

from bot.dialogue.models import BotMessage, Button, Citation
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
                    buttons=buttons(custom.get("buttons"), language),
                    end_conversation=bool(custom.get("end_conversation", False)) or custom.get("kind") in END_KINDS,
                    risk_level=custom.get("risk_level"),
                )
            )
        elif item.get("text"):
            messages.append(BotMessage(text=str(item["text"]), buttons=buttons(item.get("buttons"), language)))
    return [m for m in messages if m.text]


def buttons(raw: Any, language: Language) -> list[Button]:
    """Quick replies in `language`: `title` and `payload` are each a string or a {"zh", "en"} mapping.

    A missing payload, or a Rasa "/intent" payload, sends the title instead: the gateway refuses text
    starting with "/" (nothing a client sends may trigger an internal command).
    """
    out: list[Button] = []
    for item in raw if isinstance(raw, list) else []:
        if not isinstance(item, dict):
            continue
        title = _pick(item.get("title"), language)
        payload = _pick(item.get("payload"), language)
        if title:
            out.append(Button(title=title, payload=payload if payload and not payload.startswith("/") else title))
    return out


def _pick(value: Any, language: Language) -> str:
    if isinstance(value, dict):
        value = value.get(language) or value.get("zh") or ""
    return str(value).strip() if value is not None else ""
