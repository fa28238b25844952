"""Structured JSON logs, personal data masked, each line carrying the request id of the turn it serves.

The request id lives in a context variable: the app's middleware binds it per HTTP request, the action
server rebinds it from the tracker metadata Rasa forwards, so one id follows a turn from the channel,
through Rasa, to the actions. Masking happens in the formatter, so no handler we install can leak a
phone number whatever the caller logged.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import traceback
from contextvars import ContextVar, Token
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from bot.core.masking import mask_text, mask_value

request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)

# Attributes every LogRecord has; anything else on a record came from `extra=` and is logged as a field.
_STANDARD = frozenset(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime", "taskName"}
_MARK = "_advisor_json"
_UVICORN = ("uvicorn", "uvicorn.error", "uvicorn.access")
_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")


def clean_request_id(value: str | None) -> str | None:
    """A caller's x-request-id if it is a plausible id (1-64 of [A-Za-z0-9._:-]); None otherwise."""
    return value if value and _REQUEST_ID.fullmatch(value) else None


def bind_request_id(request_id: str | None) -> Token[str | None]:
    """Make `request_id` the current one (for this task and the tasks it starts)."""
    return request_id_var.set(request_id)


def current_request_id() -> str | None:
    return request_id_var.get()


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request id, extras, exception; all masked."""

    def format(self, record: logging.LogRecord) -> str:
        try:
            message = record.getMessage()
        except (TypeError, ValueError):  # bad %-args must not lose the line
            message = f"{record.msg!r} {record.args!r}"
        entry: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "msg": mask_text(message),
            "request_id": getattr(record, "request_id", None) or request_id_var.get(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and key not in entry and not key.startswith("_"):
                entry[key] = mask_value(value, key)
        if record.exc_info:
            entry["exc"] = mask_text("".join(traceback.format_exception(*record.exc_info)))
        elif record.exc_text:
            entry["exc"] = mask_text(record.exc_text)
        if record.stack_info:
            entry["stack"] = mask_text(record.stack_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


class _StderrHandler(logging.StreamHandler):
    """Writes to whatever sys.stderr is at emit time (test runners swap it; a stale stream would break)."""

    def __init__(self) -> None:
        super().__init__()

    @property
    def stream(self) -> TextIO:
        return sys.stderr

    @stream.setter
    def stream(self, _: TextIO) -> None:
        pass


LOG_FILE_NAME = "app.jsonl"


def log_file(log_to: str, logs_dir: Path, *, interactive: bool) -> Path | None:
    """Where app.log_to sends the JSON logs: a file under logs_dir, or None for stderr.

    `auto` picks the file when a person is watching a terminal (they read the start-up summary, not
    JSON), and stderr for services and containers, whose supervisors collect it.
    """
    if log_to == "file" or (log_to == "auto" and interactive):
        return logs_dir / LOG_FILE_NAME
    return None


def install_logging(level: str = "INFO", *, stream: TextIO | None = None, file: Path | None = None) -> logging.Handler:
    """Route the root logger (and uvicorn's) through one masked JSON handler; idempotent.

    The handler writes to `file` (appended, UTF-8) when given, else to `stream`, else to stderr.
    Other handlers on the root logger (e.g. a test runner's) are left alone; only a handler installed
    by an earlier call is replaced.
    """
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, _MARK, False)]:
        root.removeHandler(old)
        old.close()
    handler: logging.Handler
    if file is not None:
        file.parent.mkdir(parents=True, exist_ok=True)
        handler = logging.FileHandler(file, encoding="utf-8")
    else:
        handler = logging.StreamHandler(stream) if stream is not None else _StderrHandler()
    setattr(handler, _MARK, True)
    handler.setFormatter(JsonFormatter())
    root.addHandler(handler)
    root.setLevel(level.upper())
    for name in _UVICORN:  # uvicorn's own plain-text handlers would print unmasked access lines
        logger = logging.getLogger(name)
        logger.handlers.clear()
        logger.propagate = True
    return handler
