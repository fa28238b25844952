"""The WeCom channel's state in the app database: dedup keys, nonces, the kf sync cursor, inbox, send budgets,
the over-budget queue, the audit of its decisions and the kf sync lease (bot/channels/wecom/tables.py).

Before this revision the WeCom store created these tables itself (metadata.create_all), in its own database
(data_dir/wecom.db) or wherever channels.wecom.database_url pointed. A database that already holds them
(that URL was the app database's, as in deploy/compose.scale.yml) keeps them and their rows: they were
created from the same definitions, and on PostgreSQL their constraints are renamed to the names this
revision gives. State kept in a separate database is copied by `advisor wecom import-state`.

Revision ID: 0009_wecom_channel
Revises: 0008_console_login_failures
Create Date: 2026-12-09
"""

from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa
from alembic import context, op

revision = "0009_wecom_channel"
down_revision = "0008_console_login_failures"
branch_labels = None
depends_on = None


def _processed() -> None:
    op.create_table(
        "wecom_processed",
        sa.Column("key", sa.String(length=191), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_wecom_processed")),
    )
    op.create_index(op.f("ix_wecom_processed_created_at"), "wecom_processed", ["created_at"])


def _nonce() -> None:
    op.create_table(
        "wecom_nonce",
        sa.Column("nonce", sa.String(length=128), nullable=False),
        sa.Column("seen_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("nonce", name=op.f("pk_wecom_nonce")),
    )
    op.create_index(op.f("ix_wecom_nonce_seen_at"), "wecom_nonce", ["seen_at"])


def _kf_cursor() -> None:
    op.create_table(
        "wecom_kf_cursor",
        sa.Column("open_kfid", sa.String(length=128), nullable=False),
        sa.Column("cursor", sa.String(length=512), nullable=False),
        sa.Column("updated_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("open_kfid", name=op.f("pk_wecom_kf_cursor")),
    )


def _kf_inbox() -> None:
    op.create_table(
        "wecom_kf_inbox",
        sa.Column("seq", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("msgid", sa.String(length=191), nullable=False),
        sa.Column("open_kfid", sa.String(length=128), nullable=False),
        sa.Column("external_userid", sa.String(length=128), nullable=True),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("fetched_at", sa.Float(), nullable=False),
        sa.Column("done_at", sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_wecom_kf_inbox")),
        sa.UniqueConstraint("msgid", name=op.f("uq_wecom_kf_inbox_msgid")),
    )
    op.create_index("ix_wecom_kf_inbox_pending", "wecom_kf_inbox", ["open_kfid", "done_at"])


def _kf_client() -> None:
    op.create_table(
        "wecom_kf_client",
        sa.Column("open_kfid", sa.String(length=128), nullable=False),
        sa.Column("external_userid", sa.String(length=128), nullable=False),
        sa.Column("last_customer_at", sa.Float(), nullable=False),
        sa.Column("sent_since", sa.Integer(), nullable=False),
        sa.Column("human", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("open_kfid", "external_userid", name=op.f("pk_wecom_kf_client")),
    )


def _kf_outbox() -> None:
    op.create_table(
        "wecom_kf_outbox",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("open_kfid", sa.String(length=128), nullable=False),
        sa.Column("external_userid", sa.String(length=128), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_wecom_kf_outbox")),
    )
    op.create_index("ix_wecom_kf_outbox_queued", "wecom_kf_outbox", ["open_kfid", "external_userid", "status"])


def _audit() -> None:
    op.create_table(
        "wecom_audit",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("at", sa.Float(), nullable=False),
        sa.Column("kind", sa.String(length=48), nullable=False),
        sa.Column("open_kfid", sa.String(length=128), nullable=True),
        sa.Column("external_userid", sa.String(length=128), nullable=True),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_wecom_audit")),
    )
    op.create_index(op.f("ix_wecom_audit_at"), "wecom_audit", ["at"])


def _kf_sync_lease() -> None:
    op.create_table(
        "wecom_kf_sync_lease",
        sa.Column("open_kfid", sa.String(length=128), nullable=False),
        sa.Column("owner", sa.String(length=64), nullable=True),
        sa.Column("until", sa.Float(), nullable=False),
        sa.Column("again", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("open_kfid", name=op.f("pk_wecom_kf_sync_lease")),
    )


TABLES: dict[str, Callable[[], None]] = {
    "wecom_processed": _processed,
    "wecom_nonce": _nonce,
    "wecom_kf_cursor": _kf_cursor,
    "wecom_kf_inbox": _kf_inbox,
    "wecom_kf_client": _kf_client,
    "wecom_kf_outbox": _kf_outbox,
    "wecom_audit": _audit,
    "wecom_kf_sync_lease": _kf_sync_lease,
}


def _existing() -> set[str]:
    """Tables already in the database (none when only SQL is printed: there is nothing to look at)."""
    if context.is_offline_mode():
        return set()
    return set(sa.inspect(op.get_bind()).get_table_names())


def _adopt(table: str) -> None:
    """Keep a table the WeCom store created itself, rows and all; on PostgreSQL its primary key and unique
    constraints had the server's default names (wecom_kf_inbox_pkey, …_msgid_key): give them ours, so a
    later revision can name them."""
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        # SQLite cannot rename a constraint: wecom_kf_inbox's UNIQUE (msgid) stays unnamed there (only where
        # channels.wecom.database_url named the app's SQLite file); it works the same.
        return
    inspector = sa.inspect(bind)
    renames = [(inspector.get_pk_constraint(table).get("name"), f"pk_{table}")]
    renames += [(uq["name"], f"uq_{table}_{uq['column_names'][0]}") for uq in inspector.get_unique_constraints(table)]
    quote = bind.dialect.identifier_preparer.quote
    for old, new in renames:
        if old and old != new:
            op.execute(f"ALTER TABLE {quote(table)} RENAME CONSTRAINT {quote(old)} TO {quote(new)}")


def upgrade() -> None:
    existing = _existing()
    for table, create in TABLES.items():
        if table in existing:
            _adopt(table)
        else:
            create()


def downgrade() -> None:
    for table in reversed(TABLES):
        op.drop_table(table)
