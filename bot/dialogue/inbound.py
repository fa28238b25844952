"""What the gateway refuses before Rasa sees it: Rasa's intent syntax typed by a user.

Rasa reads a message that starts with "/" (after stripping whitespace) as `/intent{entities}` at
confidence 1.0, so "/opt_out" typed in a chat would opt the sender out. Stripping the slash is not
enough (the classifier then reads "opt_out" as that intent), so such a message never reaches Rasa.
Only our own code triggers an intent, through `DialogueGateway.trigger`.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from pathlib import Path

import yaml
from pydantic import BaseModel, ValidationError

from bot.errors import ConfigError

TEXTS_PATH = Path(__file__).with_name("texts.yml")
INTENT_NAME = re.compile(r"[a-z][a-z0-9_]{0,63}")
_SLASHES = frozenset("/\u2044\u2215\u29f8")  # "/", fraction slash, division slash, big solidus
# Format (zero-width, BOM, direction marks), control and separator characters are skipped.
_INVISIBLE = frozenset({"Cf", "Cc", "Zs", "Zl", "Zp"})


class GatewayTexts(BaseModel):
    """Bilingual (Chinese first) replies the gateway gives without Rasa."""

    command_hint: str
    rate_limited: str


@lru_cache(maxsize=1)
def gateway_texts(path: Path = TEXTS_PATH) -> GatewayTexts:
    """texts.yml, read once (on first use, not at import)."""
    try:
        return GatewayTexts.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))
    except (OSError, yaml.YAMLError, ValidationError) as exc:
        raise ConfigError(f"{path}: cannot load the gateway texts: {exc}") from exc


def looks_like_command(text: str) -> bool:
    """True when the first visible character is a slash: "/x", " /x", "／x" (full width), "\u200b/x"."""
    for ch in unicodedata.normalize("NFKC", text):
        if unicodedata.category(ch) not in _INVISIBLE:
            return ch in _SLASHES
    return False
