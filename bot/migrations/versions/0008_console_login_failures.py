"""Console wrong-password slow-down shared by every app process: failures per user and address.

Revision ID: 0008_console_login_failures
Revises: 0007_wecom_links
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008_console_login_failures"
down_revision = "0007_wecom_links"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "console_login_failures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=128), nullable=False),
        sa.Column("address", sa.String(length=64), nullable=False),
        sa.Column("at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_console_login_failures")),
    )
    op.create_index("ix_console_login_failures_who", "console_login_failures", ["username", "address", "at"])


def downgrade() -> None:
    op.drop_index("ix_console_login_failures_who", table_name="console_login_failures")
    op.drop_table("console_login_failures")
