"""Outbound campaigns: campaigns, imported clients (the plan), call attempts, post-campaign outcomes.

Revision ID: 0004_campaigns
Revises: 0003_roleplay
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from bot.contacts.portable import UTCDateTime

revision = "0004_campaigns"
down_revision = "0003_roleplay"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "campaigns",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("seed", sa.Integer(), nullable=False),
        sa.Column("control_share", sa.Float(), nullable=False),
        sa.Column("variants", sa.JSON(), nullable=False),
        sa.Column("rules", sa.JSON(), nullable=False),
        sa.Column("summary", sa.JSON(), nullable=False),
        sa.Column("source_file", sa.String(length=512), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("planned_at", UTCDateTime(), nullable=False),
        sa.Column("lease_owner", sa.String(length=64), nullable=True),
        sa.Column("lease_until", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaigns")),
    )
    op.create_table(
        "campaign_clients",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("row_no", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.String(length=128), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("phone", sa.String(length=32), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("consent", sa.Boolean(), nullable=False),
        sa.Column("consent_date", sa.Date(), nullable=True),
        sa.Column("last_activity_date", sa.Date(), nullable=True),
        sa.Column("aum_band", sa.String(length=32), nullable=False),
        sa.Column("payroll_day", sa.Integer(), nullable=True),
        sa.Column("risk_level", sa.String(length=8), nullable=True),
        sa.Column("tags", sa.String(length=512), nullable=False),
        sa.Column("advisor_id", sa.String(length=64), nullable=True),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("reasons", sa.String(length=512), nullable=False),
        sa.Column("segment", sa.String(length=64), nullable=True),
        sa.Column("priority", sa.Float(), nullable=False),
        sa.Column("arm", sa.String(length=32), nullable=True),
        sa.Column("script_id", sa.String(length=128), nullable=True),
        sa.Column("call_state", sa.String(length=12), nullable=False),
        sa.Column("next_call_at", UTCDateTime(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("stop_reason", sa.String(length=64), nullable=True),
        sa.Column("callback_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["campaign_id"], ["campaigns.id"],
            name=op.f("fk_campaign_clients_campaign_id_campaigns"), ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaign_clients")),
        sa.UniqueConstraint("campaign_id", "row_no", name="uq_campaign_clients_row"),
    )  # fmt: skip
    op.create_index("ix_campaign_clients_client", "campaign_clients", ["campaign_id", "client_id"])
    op.create_index("ix_campaign_clients_due", "campaign_clients", ["campaign_id", "call_state", "next_call_at"])
    op.create_table(
        "campaign_attempts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("campaign_client_id", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.String(length=128), nullable=False),
        sa.Column("phone", sa.String(length=32), nullable=False),
        sa.Column("attempt_no", sa.Integer(), nullable=False),
        sa.Column("idempotency_key", sa.String(length=200), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("call_sid", sa.String(length=64), nullable=True),
        sa.Column("answered_by", sa.String(length=32), nullable=True),
        sa.Column("duration_s", sa.Integer(), nullable=True),
        sa.Column("engaged", sa.Boolean(), nullable=False),
        sa.Column("opted_out", sa.Boolean(), nullable=False),
        sa.Column("voicemail", sa.Boolean(), nullable=False),
        sa.Column("transferred", sa.Boolean(), nullable=False),
        sa.Column("callback_at", UTCDateTime(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("dialing_at", UTCDateTime(), nullable=False),
        sa.Column("placed_at", UTCDateTime(), nullable=True),
        sa.Column("ended_at", UTCDateTime(), nullable=True),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"], ["campaigns.id"],
            name=op.f("fk_campaign_attempts_campaign_id_campaigns"), ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["campaign_client_id"], ["campaign_clients.id"],
            name=op.f("fk_campaign_attempts_campaign_client_id_campaign_clients"), ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaign_attempts")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_campaign_attempts_idempotency_key")),
        sa.UniqueConstraint("call_sid", name=op.f("uq_campaign_attempts_call_sid")),
    )  # fmt: skip
    op.create_index("ix_campaign_attempts_campaign_state", "campaign_attempts", ["campaign_id", "state"])
    op.create_index("ix_campaign_attempts_client", "campaign_attempts", ["campaign_client_id"])
    op.create_index("ix_campaign_attempts_dialing_at", "campaign_attempts", ["dialing_at"])
    op.create_table(
        "campaign_outcomes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.String(length=128), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("activity_date", sa.Date(), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("imported_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"], ["campaigns.id"],
            name=op.f("fk_campaign_outcomes_campaign_id_campaigns"), ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaign_outcomes")),
        sa.UniqueConstraint("campaign_id", "client_id", "name", "activity_date", name="uq_campaign_outcomes_key"),
    )  # fmt: skip
    op.create_index("ix_campaign_outcomes_name", "campaign_outcomes", ["campaign_id", "name"])


def downgrade() -> None:
    op.drop_table("campaign_outcomes")
    op.drop_table("campaign_attempts")
    op.drop_table("campaign_clients")
    op.drop_table("campaigns")
