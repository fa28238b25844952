"""Reading a transcript file: JSON lines (or one JSON array) of {"role", "text"} turns."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from pydantic import ValidationError

from bot.roleplay.schemas import TranscriptTurn


def read_transcript(source: str) -> list[TranscriptTurn]:
    """JSON lines (or one JSON array) of turns; ValueError names the line at fault."""
    raw = sys.stdin.read() if source == "-" else Path(source).read_text(encoding="utf-8")
    stripped = raw.strip()
    if stripped.startswith("["):
        try:
            return [TranscriptTurn.model_validate(item) for item in json.loads(stripped)]
        except (json.JSONDecodeError, ValidationError, TypeError) as exc:
            raise ValueError(f"transcript is not a valid JSON array of turns: {exc}") from exc
    turns: list[TranscriptTurn] = []
    for number, line in enumerate(raw.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            turns.append(TranscriptTurn.model_validate_json(line))
        except ValidationError as exc:
            problem = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'line'}: {e['msg']}" for e in exc.errors())
            raise ValueError(f"line {number}: {problem}") from exc
    if not turns:
        raise ValueError("transcript is empty")
    return turns
