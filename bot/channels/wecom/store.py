"""Persistence for the WeCom channel behind one small repository, in the app database.

The tables are the app's (bot/channels/wecom/tables.py), created by its Alembic migrations like every
domain's; the store never creates them. Every method is async and runs its blocking database work in a
worker thread (one transaction each), so the event loop never waits on SQLite or PostgreSQL.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

from sqlalchemy import Connection, Engine, and_, case, delete, func, insert, inspect, or_, select, update
from sqlalchemy.exc import IntegrityError

from bot.channels.wecom.tables import (
    TABLES,
    audit,
    cursors,
    inbox,
    kf_clients,
    kf_sync_leases,
    nonces,
    outbox,
    processed,
)
from bot.db import make_engine
from bot.errors import ConfigError

T = TypeVar("T")
SendVerdict = Literal["ok", "quota", "window_closed"]


@dataclass(frozen=True)
class PageMessage:
    """A kf message as fetched; `history` ones are stored as already handled."""

    msgid: str
    external_userid: str | None
    payload: str
    history: bool = False


@dataclass(frozen=True)
class InboxRow:
    """A fetched kf message waiting to be handled."""

    msgid: str
    external_userid: str | None
    payload: str


@dataclass(frozen=True)
class ClientState:
    """A customer's send budget and whether a human has the session."""

    last_customer_at: float
    sent_since: int
    human: bool


@dataclass(frozen=True)
class QueuedMessage:
    """A message held back by the 48 h / 5-message limit."""

    id: int
    content: str
    created_at: float


class WeComStore:
    """Cursor, dedup keys, nonces, quotas, queue and audit for WeCom; tables in bot.channels.wecom.tables."""

    def __init__(self, url: str) -> None:
        self._engine: Engine = make_engine(url)  # SQLite: WAL and a busy timeout, as for every app table

    async def open(self) -> None:
        """Check that the migrations created the WeCom tables (the app runs them first: bot.db.migrate)."""
        await asyncio.to_thread(self._check_schema)

    def _check_schema(self) -> None:
        with self._engine.connect() as conn:
            present = set(inspect(conn).get_table_names())
        missing = [table.name for table in TABLES if table.name not in present]
        if missing:
            raise ConfigError(
                f"the database has no WeCom tables ({', '.join(missing)}): bring it to the latest migration "
                "first (the app does at start-up; bot.db.migrate)"
            )

    async def aclose(self) -> None:
        await asyncio.to_thread(self._engine.dispose)

    async def _tx(self, work: Callable[[Connection], T]) -> T:
        def run() -> T:
            with self._engine.begin() as conn:
                return work(conn)

        return await asyncio.to_thread(run)

    # --- dedup, one-time codes and nonces ---------------------------------------------------

    async def claim(self, key: str, *, now: float) -> bool:
        """True the first time `key` is claimed, False ever after (atomic on the primary key)."""
        if len(key) > 180:  # event tokens can be long; the column must stay indexable everywhere
            key = "sha256:" + hashlib.sha256(key.encode()).hexdigest()
        try:
            await self._tx(lambda c: c.execute(insert(processed).values(key=key, created_at=now)))
        except IntegrityError:
            return False
        return True

    async def claim_nonce(self, nonce: str, *, now: float, window_s: float) -> bool:
        """True if the nonce is new within the replay window; forgets nonces past twice the window."""

        def work(conn: Connection) -> None:
            conn.execute(delete(nonces).where(nonces.c.seen_at < now - 2 * window_s))
            conn.execute(insert(nonces).values(nonce=nonce, seen_at=now))

        try:
            await self._tx(work)
        except IntegrityError:
            return False
        return True

    # --- kf cursor and inbox ----------------------------------------------------------------

    async def cursor(self, open_kfid: str) -> str | None:
        return await self._tx(
            lambda c: c.execute(select(cursors.c.cursor).where(cursors.c.open_kfid == open_kfid)).scalar()
        )

    async def take_sync(self, open_kfid: str, *, owner: str, now: float, ttl_s: float) -> bool:
        """Take the account's sync lease (True), or ask its holder to sync once more (False). Each step is
        one conditional UPDATE, so two processes never both take it and a request is never left on a
        lease its holder has just released (the loop then takes it)."""
        with contextlib.suppress(IntegrityError):  # the account's row, once
            await self._tx(lambda c: c.execute(insert(kf_sync_leases).values(open_kfid=open_kfid, until=0.0)))
        lease = kf_sync_leases.c
        mine = lease.open_kfid == open_kfid
        free = or_(lease.owner.is_(None), lease.until < now)

        def work(conn: Connection) -> bool:
            while True:
                take = update(kf_sync_leases).where(mine, free).values(owner=owner, until=now + ttl_s, again=False)
                if conn.execute(take).rowcount:
                    return True
                if conn.execute(update(kf_sync_leases).where(mine, ~free).values(again=True)).rowcount:
                    return False

        return await self._tx(work)

    async def release_sync(self, open_kfid: str, *, owner: str) -> bool:
        """Let the lease go, unless a notice came while we held it: then keep it and return True (sync
        again). One UPDATE decides both, atomically against a concurrent request."""
        lease = kf_sync_leases.c
        release = (
            update(kf_sync_leases)
            .where(lease.open_kfid == open_kfid, lease.owner == owner)
            .values(
                owner=case((lease.again, lease.owner), else_=None),
                until=case((lease.again, lease.until), else_=0.0),
                again=False,
            )
            .returning(lease.owner)
        )
        return await self._tx(lambda c: c.execute(release).scalar() is not None)

    async def known_kfids(self) -> list[str]:
        """kf accounts synced before: the ones to catch up on at start-up."""
        return await self._tx(lambda c: list(c.execute(select(cursors.c.open_kfid)).scalars()))

    async def save_page(self, open_kfid: str, *, cursor: str, messages: list[PageMessage], now: float) -> int:
        """Store a page's new messages and advance the cursor in one transaction; returns the new count."""

        def work(conn: Connection) -> int:
            ids = [m.msgid for m in messages]
            known = set(conn.execute(select(inbox.c.msgid).where(inbox.c.msgid.in_(ids))).scalars()) if ids else set()
            fresh = [
                {
                    "msgid": m.msgid,
                    "open_kfid": open_kfid,
                    "external_userid": m.external_userid,
                    "payload": m.payload,
                    "fetched_at": now,
                    "done_at": now if m.history else None,
                }
                for m in messages
                if m.msgid not in known
            ]
            if fresh:
                conn.execute(insert(inbox), fresh)
            values = {"cursor": cursor, "updated_at": now}
            updated = conn.execute(update(cursors).where(cursors.c.open_kfid == open_kfid).values(**values))
            if updated.rowcount == 0:
                conn.execute(insert(cursors).values(open_kfid=open_kfid, **values))
            return len(fresh)

        return await self._tx(work)

    async def pending(self, open_kfid: str) -> list[InboxRow]:
        """Unhandled messages in the order WeCom gave them."""
        query = (
            select(inbox.c.msgid, inbox.c.external_userid, inbox.c.payload)
            .where(and_(inbox.c.open_kfid == open_kfid, inbox.c.done_at.is_(None)))
            .order_by(inbox.c.seq)
        )
        return await self._tx(lambda c: [InboxRow(*row) for row in c.execute(query)])

    async def mark_done(self, msgid: str, *, now: float) -> None:
        await self._tx(lambda c: c.execute(update(inbox).where(inbox.c.msgid == msgid).values(done_at=now)))

    # --- per-customer budget and session owner ----------------------------------------------

    async def client(self, open_kfid: str, external_userid: str) -> ClientState | None:
        where = and_(kf_clients.c.open_kfid == open_kfid, kf_clients.c.external_userid == external_userid)
        query = select(kf_clients.c.last_customer_at, kf_clients.c.sent_since, kf_clients.c.human).where(where)

        def work(conn: Connection) -> ClientState | None:
            row = conn.execute(query).first()
            return ClientState(float(row[0]), int(row[1]), bool(row[2])) if row else None

        return await self._tx(work)

    def _upsert_client(self, conn: Connection, open_kfid: str, external_userid: str, **values: Any) -> None:
        where = and_(kf_clients.c.open_kfid == open_kfid, kf_clients.c.external_userid == external_userid)
        if conn.execute(update(kf_clients).where(where).values(**values)).rowcount == 0:
            row = {"last_customer_at": 0.0, "sent_since": 0, "human": False, **values}
            conn.execute(insert(kf_clients).values(open_kfid=open_kfid, external_userid=external_userid, **row))

    async def record_customer_message(self, open_kfid: str, external_userid: str, *, at: float) -> None:
        """The customer wrote: the 48 h window restarts and the 5-message count resets."""

        def work(conn: Connection) -> None:
            where = and_(kf_clients.c.open_kfid == open_kfid, kf_clients.c.external_userid == external_userid)
            newer = and_(where, kf_clients.c.last_customer_at <= at)
            if conn.execute(update(kf_clients).where(newer).values(last_customer_at=at, sent_since=0)).rowcount:
                return
            if conn.execute(select(func.count()).select_from(kf_clients).where(where)).scalar_one() == 0:
                self._upsert_client(conn, open_kfid, external_userid, last_customer_at=at, sent_since=0)

        await self._tx(work)

    async def latest_kfid(self, external_userid: str) -> str | None:
        """The kf account this customer wrote to last (for a hand-off requested without one)."""
        query = (
            select(kf_clients.c.open_kfid)
            .where(kf_clients.c.external_userid == external_userid)
            .order_by(kf_clients.c.last_customer_at.desc())
            .limit(1)
        )
        return await self._tx(lambda c: c.execute(query).scalar())

    async def set_human(self, open_kfid: str, external_userid: str, human: bool) -> None:
        await self._tx(lambda c: self._upsert_client(c, open_kfid, external_userid, human=human))

    async def reserve_send(
        self, open_kfid: str, external_userid: str, *, now: float, window_s: float, limit: int
    ) -> SendVerdict:
        """Atomically take one of the customer's sends, or say why not."""

        def work(conn: Connection) -> SendVerdict:
            where = and_(kf_clients.c.open_kfid == open_kfid, kf_clients.c.external_userid == external_userid)
            allowed = and_(where, kf_clients.c.sent_since < limit, kf_clients.c.last_customer_at >= now - window_s)
            taken = conn.execute(update(kf_clients).where(allowed).values(sent_since=kf_clients.c.sent_since + 1))
            if taken.rowcount:
                return "ok"
            last = conn.execute(select(kf_clients.c.last_customer_at).where(where)).scalar()
            return "window_closed" if last is None or last < now - window_s else "quota"

        return await self._tx(work)

    async def release_send(self, open_kfid: str, external_userid: str) -> None:
        """Give a send back after WeCom definitively refused it."""
        where = and_(
            kf_clients.c.open_kfid == open_kfid,
            kf_clients.c.external_userid == external_userid,
            kf_clients.c.sent_since > 0,
        )
        await self._tx(
            lambda c: c.execute(update(kf_clients).where(where).values(sent_since=kf_clients.c.sent_since - 1))
        )

    # --- queue ------------------------------------------------------------------------------

    async def enqueue(self, open_kfid: str, external_userid: str, content: str, *, now: float) -> None:
        row = {"open_kfid": open_kfid, "external_userid": external_userid, "content": content}
        await self._tx(lambda c: c.execute(insert(outbox).values(**row, created_at=now, status="queued")))

    async def queued(self, open_kfid: str, external_userid: str) -> list[QueuedMessage]:
        query = (
            select(outbox.c.id, outbox.c.content, outbox.c.created_at)
            .where(
                and_(
                    outbox.c.open_kfid == open_kfid,
                    outbox.c.external_userid == external_userid,
                    outbox.c.status == "queued",
                )
            )
            .order_by(outbox.c.id)
        )
        return await self._tx(lambda c: [QueuedMessage(int(r[0]), r[1], float(r[2])) for r in c.execute(query)])

    async def set_queued_status(self, message_id: int, status: Literal["sent", "dropped"]) -> None:
        await self._tx(lambda c: c.execute(update(outbox).where(outbox.c.id == message_id).values(status=status)))

    # --- audit and housekeeping -------------------------------------------------------------

    async def audit(
        self,
        kind: str,
        *,
        now: float,
        open_kfid: str | None = None,
        external_userid: str | None = None,
        detail: str = "",
    ) -> None:
        """Record a decision a compliance reviewer may ask about (dropped, queued, uncertain, handed off)."""
        row = {"kind": kind, "at": now, "open_kfid": open_kfid, "external_userid": external_userid}
        await self._tx(lambda c: c.execute(insert(audit).values(**row, detail=detail[:2000])))

    async def audit_entries(self, kind: str | None = None) -> list[dict[str, Any]]:
        query = select(audit).order_by(audit.c.id)
        if kind is not None:
            query = query.where(audit.c.kind == kind)
        return await self._tx(lambda c: [dict(row._mapping) for row in c.execute(query)])

    async def purge(self, *, now: float, keep_s: float) -> None:
        """Forget what can no longer matter: WeCom keeps kf messages 3 days and retries within minutes."""

        def work(conn: Connection) -> None:
            cutoff = now - keep_s
            conn.execute(delete(processed).where(processed.c.created_at < cutoff))
            conn.execute(delete(inbox).where(and_(inbox.c.done_at.is_not(None), inbox.c.done_at < cutoff)))
            conn.execute(delete(outbox).where(and_(outbox.c.status != "queued", outbox.c.created_at < cutoff)))

        await self._tx(work)
