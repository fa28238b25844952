"""Turn Rasa's raw messages into channel-ready messages in the user's language.

The bank's identity is filled in here, at render time: responses say {bank_name}, {hotline} and
{hotline_hours}, and config.yml (app.bank_name, app.bank_name_en, app.hotline, app.hotline_hours[_en])
decides what the client reads. Rasa's
domain declares both as slots whose value is their own placeholder, so Rasa passes them through.
"""

from __future__ import annotations

from typing import Any

from bot.core.identity import Identity
from bot.core.messages import BotMessage, Button, Citation
from bot.language import Language

# Message kinds after which the conversation is over (voice hangs up, web shows it ended).
END_KINDS = frozenset({"opt_out", "end_call"})


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
                    buttons=buttons(custom.get("buttons"), language),
                    end_conversation=bool(custom.get("end_conversation", False)) or custom.get("kind") in END_KINDS,
                    risk_level=custom.get("risk_level"),
                    callback_at=_iso(custom.get("callback_at")),
                    approved=[str(a) for a in custom.get("approved", []) if isinstance(a, str)],
                )
            )
        elif item.get("text"):
            text = who.fill(str(item["text"]), language)
            messages.append(BotMessage(text=text, buttons=buttons(item.get("buttons"), language)))
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


def _iso(value: Any) -> str | None:
    """An ISO time, or None (an unfilled "{callback_at}" placeholder is no time)."""
    text = str(value).strip() if value else ""
    return text if text[:4].isdigit() else None


def _pick(value: Any, language: Language) -> str:
    if isinstance(value, dict):
        value = value.get(language) or value.get("zh") or ""
    return str(value).strip() if value is not None else ""
