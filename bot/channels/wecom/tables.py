"""The WeCom channel's tables: everything that must survive a restart.

SQLAlchemy Core tables on the app's one metadata (`bot.db.Base.metadata`), so they live in the app
database and Alembic creates them (bot/migrations/versions/0009_wecom_channel.py) like every domain's.
"""

from __future__ import annotations

from sqlalchemy import Boolean, Column, Float, Index, Integer, String, Table, Text

from bot.db import Base

metadata = Base.metadata  # the app's: never create_all'd here, Alembic owns the schema

# Dedup keys of callbacks (MsgId / event key) and of used one-time codes (welcome codes).
processed = Table(
    "wecom_processed",
    metadata,
    Column("key", String(191), primary_key=True),
    Column("created_at", Float, nullable=False, index=True),
)

# Callback nonces seen within the replay window.
nonces = Table(
    "wecom_nonce",
    metadata,
    Column("nonce", String(128), primary_key=True),
    Column("seen_at", Float, nullable=False, index=True),
)

# kf/sync_msg cursor per kf account.
cursors = Table(
    "wecom_kf_cursor",
    metadata,
    Column("open_kfid", String(128), primary_key=True),
    Column("cursor", String(512), nullable=False),
    Column("updated_at", Float, nullable=False),
)

# kf messages fetched but not yet handled: written with the cursor in one transaction.
inbox = Table(
    "wecom_kf_inbox",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("msgid", String(191), nullable=False, unique=True),
    Column("open_kfid", String(128), nullable=False),
    Column("external_userid", String(128), nullable=True),
    Column("payload", Text, nullable=False),
    Column("fetched_at", Float, nullable=False),
    Column("done_at", Float, nullable=True),
    Index("ix_wecom_kf_inbox_pending", "open_kfid", "done_at"),
)

# Per-customer send budget: 5 messages within 48 h of the customer's last message.
kf_clients = Table(
    "wecom_kf_client",
    metadata,
    Column("open_kfid", String(128), primary_key=True),
    Column("external_userid", String(128), primary_key=True),
    Column("last_customer_at", Float, nullable=False),
    Column("sent_since", Integer, nullable=False, default=0),
    Column("human", Boolean, nullable=False, default=False),
)

# Messages over the budget, delivered when the customer writes again.
outbox = Table(
    "wecom_kf_outbox",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("open_kfid", String(128), nullable=False),
    Column("external_userid", String(128), nullable=False),
    Column("content", Text, nullable=False),
    Column("created_at", Float, nullable=False),
    Column("status", String(16), nullable=False),  # queued | sent | dropped
    Index("ix_wecom_kf_outbox_queued", "open_kfid", "external_userid", "status"),
)

# What was dropped, queued, uncertain or handed off, and why.
audit = Table(
    "wecom_audit",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", Float, nullable=False, index=True),
    Column("kind", String(48), nullable=False),
    Column("open_kfid", String(128), nullable=True),
    Column("external_userid", String(128), nullable=True),
    Column("detail", Text, nullable=False, default=""),
)

# Which app process syncs a kf account now (one at a time across processes sharing this database), and
# whether a notice came for it meanwhile (`again`: its holder syncs once more before letting go).
kf_sync_leases = Table(
    "wecom_kf_sync_lease",
    metadata,
    Column("open_kfid", String(128), primary_key=True),
    Column("owner", String(64), nullable=True),
    Column("until", Float, nullable=False),
    Column("again", Boolean, nullable=False, default=False),
)

# Every table above, parents first (none refers to another): for the schema check and the state import.
TABLES: tuple[Table, ...] = (processed, nonces, cursors, inbox, kf_clients, outbox, audit, kf_sync_leases)
