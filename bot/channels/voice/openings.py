"""Approved call openings: the knowledge base's voice scripts (type `script`, with an approval id).

Rasa decides that the call opens (its `call_opening` message); the words are the campaign's approved
script, spoken verbatim, so the compliance-approved text and the spoken text cannot drift apart.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from bot.knowledge.models import Document
from bot.language import Language

DEFAULT_SCRIPT = "script-opening-call"  # + "-zh" / "-en"


class ApprovedOpenings:
    """Voice scripts by id, loaded once; validity is checked again on the day each call is made."""

    def __init__(self, scripts: dict[str, Document]) -> None:
        self._scripts = scripts

    @classmethod
    def load(cls, source_dir: Path, *, today: date) -> ApprovedOpenings:
        """Blocking file reads: call from a thread."""
        from bot.campaigns.scripts import approved_scripts

        return cls(approved_scripts(source_dir, today=today))

    def line(self, script_id: str | None, language: Language, *, today: date) -> str | None:
        """The campaign's script in the call's language, else the default opening; None if none is valid."""
        for candidate in (script_id, f"{script_id}-{language}" if script_id else None, f"{DEFAULT_SCRIPT}-{language}"):
            doc = self._scripts.get(candidate or "")
            if doc is not None and doc.language == language and doc.validity(today) == "valid":
                return " ".join(doc.body.split())
        return None
