"""Leads (with the CRM outbox), do-not-contact and risk profiles.

Revision ID: 0001_leads_contacts
Revises:
Create Date: 2025-01-01

Hand-written to stay portable (SQLite and PostgreSQL) and independent of app code: timestamps are
plain `DateTime(timezone=True)` here; the app's UTCDateTime type only converts values in Python.
The partial unique index is what makes "one open lead per client, type and product" hold under
concurrent writers.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001_leads_contacts"
down_revision = None
branch_labels = None
depends_on = None

_OPEN = sa.text("status IN ('new', 'contacted')")


def _ts(name: str, *, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "do_not_contact",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key_kind", sa.String(length=8), nullable=False),
        sa.Column("key_value", sa.String(length=128), nullable=False),
        sa.Column("client_key", sa.String(length=128), nullable=False),
        sa.Column("phone", sa.String(length=20), nullable=True),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("evidence", sa.Text(), nullable=False),
        _ts("opted_out_at"),
        sa.CheckConstraint("key_kind IN ('client', 'phone')", name=op.f("ck_do_not_contact_key_kind")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_do_not_contact")),
        sa.UniqueConstraint("key_kind", "key_value", name="uq_do_not_contact_key"),
    )
    op.create_table(
        "risk_profiles",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("client_key", sa.String(length=128), nullable=False),
        sa.Column("level", sa.String(length=2), nullable=False),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("answers", sa.JSON(), nullable=False),
        _ts("assessed_at"),
        _ts("created_at"),
        sa.CheckConstraint("level IN ('C1', 'C2', 'C3', 'C4', 'C5')", name=op.f("ck_risk_profiles_level")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_risk_profiles")),
    )
    op.create_index("ix_risk_profiles_client_assessed", "risk_profiles", ["client_key", "assessed_at"])
    op.create_table(
        "leads",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("client_key", sa.String(length=128), nullable=False),
        sa.Column("sender_id", sa.String(length=128), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("conversation_id", sa.String(length=128), nullable=False),
        sa.Column("type", sa.String(length=32), nullable=False),
        sa.Column("intent", sa.String(length=64), nullable=False),
        sa.Column("confidence", sa.Float(), nullable=True),
        sa.Column("product_code", sa.String(length=64), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("evidence", sa.Text(), nullable=False),
        sa.Column("summary", sa.Text(), nullable=True),
        _ts("callback_at", nullable=True),
        sa.Column("advisor_id", sa.String(length=64), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        _ts("created_at"),
        _ts("updated_at"),
        sa.CheckConstraint(
            "type IN ('product_interest', 'advisor_request', 'callback_request', 'complaint')",
            name=op.f("ck_leads_type"),
        ),
        sa.CheckConstraint("status IN ('new', 'contacted', 'converted', 'closed')", name=op.f("ck_leads_status")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_leads")),
    )
    op.create_index(
        "uq_leads_open_client_type_product", "leads", ["client_key", "type", "product_code"],
        unique=True, sqlite_where=_OPEN, postgresql_where=_OPEN,
    )  # fmt: skip
    op.create_index("ix_leads_status_created", "leads", ["status", "created_at"])
    op.create_index("ix_leads_created", "leads", ["created_at"])
    op.create_index("ix_leads_advisor", "leads", ["advisor_id"])
    op.create_index("ix_leads_client", "leads", ["client_key"])
    op.create_table(
        "lead_outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.String(length=36), nullable=False),
        sa.Column("lead_id", sa.Integer(), nullable=False),
        sa.Column("event_type", sa.String(length=32), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        _ts("created_at"),
        sa.Column("attempts", sa.Integer(), nullable=False),
        _ts("next_attempt_at"),
        _ts("delivered_at", nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["lead_id"], ["leads.id"], name=op.f("fk_lead_outbox_lead_id_leads")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lead_outbox")),
        sa.UniqueConstraint("event_id", name=op.f("uq_lead_outbox_event_id")),
    )
    op.create_index("ix_lead_outbox_due", "lead_outbox", ["delivered_at", "next_attempt_at"])
    op.create_index("ix_lead_outbox_lead", "lead_outbox", ["lead_id", "id"])


def downgrade() -> None:
    op.drop_table("lead_outbox")
    op.drop_table("leads")
    op.drop_table("risk_profiles")
    op.drop_table("do_not_contact")
