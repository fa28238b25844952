"""WeCom state kept outside the app database (before migration 0009): refused at start-up, imported once.

Until then the WeCom store kept its tables in its own database: data_dir/wecom.db, or wherever
channels.wecom.database_url pointed. Starting on the app database without that state starts a fresh kf
sync cursor: WeCom returns up to 3 days of messages again, and those of the last 10 minutes
(kf.FIRST_SYNC_HISTORY_S) are answered a second time, their dedup keys being in the old database. The
48 h send budgets, hand-offs to a human, queued replies and the audit of the channel's decisions would
stay behind too. So the runtime refuses to start while data_dir/wecom.db exists, and
`advisor wecom import-state` copies the state over in one transaction and sets the file aside.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Column, Connection, Engine, Table, create_engine, func, insert, inspect, select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from bot.channels.wecom.tables import audit, cursors, inbox, kf_clients, nonces, outbox, processed
from bot.db import make_engine
from bot.errors import ConfigError, Conflict, InputError, ServiceUnavailable

# What is copied. Not the sync lease: a stopped process holds nothing.
IMPORTED: tuple[Table, ...] = (processed, nonces, cursors, inbox, kf_clients, outbox, audit)
# Generated keys are not copied (a PostgreSQL sequence would not know them); rows keep their order.
_RENUMBERED: dict[str, str] = {inbox.name: "seq", outbox.name: "id", audit.name: "id"}
_BATCH = 1000
SET_ASIDE_SUFFIX = ".imported"


@dataclass(frozen=True)
class ImportReport:
    """Rows copied per table, and where the old SQLite file went (None for a server database)."""

    copied: dict[str, int]
    set_aside: Path | None


def refuse_unimported(path: Path) -> None:
    """Refuse to start WeCom on top of an old state file (see the module's docstring for why)."""
    if path.exists():
        raise ConfigError(
            f"{path} holds WeCom state from before it moved into the app database. Stop the app and run "
            "`advisor wecom import-state` once (it keeps the kf sync cursor, dedup keys, send budgets, hand-offs, "
            "queue and audit: without them the last minutes' messages are answered twice), or move the file "
            "away to start afresh"
        )


def source_url(source: str) -> str:
    """A SQLAlchemy URL as given, or the URL of an existing SQLite file (SQLite would create a missing one)."""
    if "://" in source:
        return source
    path = Path(source)
    if not path.is_file():
        raise InputError(f"{source}: no such file (give the old wecom.db or the old channels.wecom.database_url)")
    return f"sqlite:///{path.resolve()}"


def import_state(source: str, *, target_url: str) -> ImportReport:
    """Copy the old store's state into the app database (migrated to head) in one transaction."""
    url = source_url(source)
    if _same_database(url, target_url):
        raise InputError(f"{_shown(url)} is the app database itself: give the old WeCom database")
    old_engine, new_engine = create_engine(url), make_engine(target_url)  # the old one is only read
    try:
        with old_engine.connect() as old, new_engine.begin() as new:
            copied = _copy_all(old, new, source=_shown(url))
    except SQLAlchemyError as exc:
        raise ServiceUnavailable(f"could not copy the WeCom state from {_shown(url)}: {exc}") from exc
    finally:
        _dispose(old_engine, new_engine)
    return ImportReport(copied=copied, set_aside=_set_aside(url))


def _copy_all(old: Connection, new: Connection, *, source: str) -> dict[str, int]:
    found = set(inspect(old).get_table_names()) & {table.name for table in IMPORTED}
    if not found:
        raise InputError(f"{source} holds no WeCom tables: is it the old WeCom database?")
    held = [table.name for table in IMPORTED if new.execute(select(func.count()).select_from(table)).scalar_one()]
    if held:
        raise Conflict(
            f"the app database already holds WeCom state ({', '.join(held)}): imported before, or the channel "
            "started afresh; nothing copied"
        )
    return {table.name: _copy(table, old, new) if table.name in found else 0 for table in IMPORTED}


def _copy(table: Table, old: Connection, new: Connection) -> int:
    """Copy one table in batches: the columns both sides have, in the order of the old generated key."""
    present = {column["name"] for column in inspect(old).get_columns(table.name)}
    renumbered = _RENUMBERED.get(table.name)
    columns: list[Column[Any]] = [c for c in table.c if c.name in present and c.name != renumbered]
    query = select(*columns)
    if renumbered is not None:
        query = query.order_by(table.c[renumbered])
    copied = 0
    for rows in old.execution_options(yield_per=_BATCH).execute(query).partitions():
        new.execute(insert(table), [dict(row._mapping) for row in rows])
        copied += len(rows)
    return copied


def _same_database(a: str, b: str) -> bool:
    first, second = make_url(a), make_url(b)
    if first.get_backend_name() == second.get_backend_name() == "sqlite":
        return Path(str(first.database)).resolve() == Path(str(second.database)).resolve()
    return first == second


def _set_aside(url: str) -> Path | None:
    """Rename an imported SQLite file (and its WAL files) to *.imported: the start-up check then passes."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    path = Path(str(parsed.database))
    for suffix in ("", "-wal", "-shm"):
        part = path.with_name(path.name + suffix)
        if part.exists():
            part.rename(path.with_name(path.name + SET_ASIDE_SUFFIX + suffix))
    return path.with_name(path.name + SET_ASIDE_SUFFIX)


def _shown(url: str) -> str:
    """The URL for a message: never its password."""
    return make_url(url).render_as_string(hide_password=True)


def _dispose(*engines: Engine) -> None:
    for engine in engines:
        engine.dispose()
