"""Security hardening: server-side console sessions, and the per-sender lead lock (one open lead per
sender and type within a window).

Revision ID: 0006_security
Revises: 0005_contact_optouts_lifecycle
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_security"
down_revision = "0005_contact_optouts_lifecycle"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "console_sessions",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("username", sa.String(length=128), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_console_sessions")),
    )
    op.create_index("ix_console_sessions_expires", "console_sessions", ["expires_at"])
    op.create_table(
        "lead_sender_locks",
        sa.Column("sender_id", sa.String(length=128), nullable=False),
        sa.Column("type", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("sender_id", "type", name=op.f("pk_lead_sender_locks")),
    )
    op.create_index("ix_leads_sender_type", "leads", ["sender_id", "type", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_leads_sender_type", table_name="leads")
    op.drop_table("lead_sender_locks")
    op.drop_index("ix_console_sessions_expires", table_name="console_sessions")
    op.drop_table("console_sessions")
