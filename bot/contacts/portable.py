"""Portable SQL pieces shared by the contacts and leads tables (SQLite by default, PostgreSQL by URL).

Kept here (not in bot/db.py, which this domain does not own); candidates to move there.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, insert
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement, TextClause
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator[datetime]):
    """An aware UTC datetime on every backend.

    SQLite drops the offset of `DateTime(timezone=True)` and hands back naive values, PostgreSQL keeps
    it; normalising to UTC on the way in and re-attaching it on the way out makes comparisons and
    JSON output identical on both. Naive input is refused: its meaning (UTC? Beijing?) is a guess.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if not isinstance(value, datetime) or value.tzinfo is None:
            raise ValueError(f"expected a timezone-aware datetime, got {value!r}")
        return value.astimezone(UTC)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def insert_or_ignore(
    session: Session,
    model: type[Any],
    values: Mapping[str, Any],
    *,
    conflict: Sequence[str],
    where: ColumnElement[bool] | TextClause | None = None,
) -> bool:
    """INSERT unless it would break the unique index on `conflict` (partial when `where`); True if inserted.

    `ON CONFLICT DO NOTHING` (SQLite ≥ 3.24 and PostgreSQL) lets the database settle a race between two
    writers inside the caller's transaction. A SAVEPOINT + IntegrityError is *not* used on SQLite: under
    pysqlite's default transaction handling a SAVEPOINT opened before any other write becomes the real
    transaction, and releasing it commits early, so a later rollback would leave half the work behind.
    """
    dialect = session.get_bind().dialect.name
    if dialect in {"sqlite", "postgresql"}:
        module: Any = sqlite if dialect == "sqlite" else postgresql
        table = model.__table__
        stmt = (
            module.insert(table)
            .values(**values)
            .on_conflict_do_nothing(index_elements=conflict, index_where=where)
            .returning(*table.primary_key.columns)  # rowcount is -1 for INSERTs on psycopg 3: not usable
        )
        return session.execute(stmt).first() is not None
    try:  # other backends: a savepoint is safe with their drivers
        with session.begin_nested():
            session.execute(insert(model.__table__).values(**values))
    except IntegrityError:
        return False
    return True
