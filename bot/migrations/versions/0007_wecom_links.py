"""The advisors' WeCom 「联系我」 links (config_id kept to update or delete them), the friend-adds they bring,
and text messages with the consent each was sent under.

Revision ID: 0007_wecom_links
Revises: 0006_security
Create Date: 2026-12-08
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from bot.contacts.portable import UTCDateTime

revision = "0007_wecom_links"
down_revision = "0006_security"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "wecom_contact_ways",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=1), nullable=False),
        sa.Column("state", sa.String(length=32), nullable=True),
        sa.Column("advisor_id", sa.String(length=64), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=True),
        sa.Column("attempt_id", sa.Integer(), nullable=True),
        sa.Column("client_id", sa.String(length=128), nullable=True),
        sa.Column("conversation_id", sa.String(length=128), nullable=True),
        sa.Column("client_key", sa.String(length=128), nullable=True),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("config_id", sa.String(length=128), nullable=True),
        sa.Column("qr_code", sa.String(length=1024), nullable=True),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("deleted_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_wecom_contact_ways")),
        sa.UniqueConstraint("state", name=op.f("uq_wecom_contact_ways_state")),
        sa.UniqueConstraint("config_id", name=op.f("uq_wecom_contact_ways_config_id")),
    )
    op.create_index("ix_wecom_contact_ways_client", "wecom_contact_ways", ["campaign_id", "client_id", "advisor_id"])
    op.create_index("ix_wecom_contact_ways_conversation", "wecom_contact_ways", ["conversation_id", "advisor_id"])
    op.create_index("ix_wecom_contact_ways_expiry", "wecom_contact_ways", ["status", "expires_at"])
    op.create_table(
        "wecom_friend_adds",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("link_id", sa.Integer(), nullable=False),
        sa.Column("advisor_id", sa.String(length=64), nullable=False),
        sa.Column("external_userid", sa.String(length=128), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=True),
        sa.Column("client_id", sa.String(length=128), nullable=True),
        sa.Column("client_key", sa.String(length=128), nullable=True),
        sa.Column("arm", sa.String(length=32), nullable=True),
        sa.Column("segment", sa.String(length=64), nullable=True),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("added_at", UTCDateTime(), nullable=False),
        sa.Column("recorded_at", UTCDateTime(), nullable=False),
        sa.Column("outcome_recorded", sa.Boolean(), nullable=False),
        sa.Column("leads_linked", sa.Integer(), nullable=False),
        sa.Column("welcome_status", sa.String(length=12), nullable=False),
        sa.Column("welcome_detail", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["link_id"], ["wecom_contact_ways.id"], name=op.f("fk_wecom_friend_adds_link_id_wecom_contact_ways")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_wecom_friend_adds")),
        sa.UniqueConstraint("link_id", "external_userid", name="uq_wecom_friend_adds_link_user"),
    )
    op.create_index("ix_wecom_friend_adds_campaign", "wecom_friend_adds", ["campaign_id", "client_id"])
    op.create_table(
        "text_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("idempotency_key", sa.String(length=200), nullable=False),
        sa.Column("purpose", sa.String(length=32), nullable=False),
        sa.Column("client_key", sa.String(length=128), nullable=False),
        sa.Column("phone", sa.String(length=20), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=True),
        sa.Column("attempt_id", sa.Integer(), nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("accepted", sa.Boolean(), nullable=False),
        sa.Column("consent_text", sa.Text(), nullable=False),
        sa.Column("consent_evidence", sa.Text(), nullable=False),
        sa.Column("consent_at", UTCDateTime(), nullable=False),
        sa.Column("consent_channel", sa.String(length=32), nullable=False),
        sa.Column("consent_conversation", sa.String(length=128), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("provider", sa.String(length=32), nullable=True),
        sa.Column("provider_sid", sa.String(length=64), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("sent_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_text_messages")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_text_messages_idempotency_key")),
    )
    op.create_index("ix_text_messages_client", "text_messages", ["client_key"])
    op.create_index("ix_text_messages_phone", "text_messages", ["phone"])
    op.create_index("ix_text_messages_campaign", "text_messages", ["campaign_id"])


def downgrade() -> None:
    op.drop_table("text_messages")
    op.drop_table("wecom_friend_adds")
    op.drop_table("wecom_contact_ways")
