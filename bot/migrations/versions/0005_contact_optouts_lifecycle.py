"""Leads carry contact details with consent, a linked client and how their advisor was chosen; the opt-out
register; outcome sources; campaign lifecycle (the old final status "done" becomes "completed").

Revision ID: 0005_contact_optouts_lifecycle
Revises: 0004_campaigns
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from bot.contacts.portable import UTCDateTime

revision = "0005_contact_optouts_lifecycle"
down_revision = "0004_campaigns"
branch_labels = None
depends_on = None

_LEAD_COLUMNS = (
    ("advisor_rule", sa.String(length=16)),
    ("contact_name", sa.String(length=64)),
    ("contact_phone", sa.String(length=20)),
    ("contact_source", sa.String(length=16)),
    ("consent_text", sa.Text()),
    ("consent_at", UTCDateTime()),
    ("linked_client_id", sa.String(length=128)),
    ("campaign_id", sa.Integer()),
    ("wecom_external_userid", sa.String(length=128)),
)
_OUTCOME_KEY = ["campaign_id", "client_id", "name", "activity_date"]


def upgrade() -> None:
    with op.batch_alter_table("leads") as batch:
        for name, type_ in _LEAD_COLUMNS:
            batch.add_column(sa.Column(name, type_, nullable=True))
        batch.create_index("ix_leads_linked_client", ["linked_client_id"])
    op.execute("UPDATE leads SET advisor_rule = 'manual' WHERE advisor_id IS NOT NULL")

    op.create_table(
        "opt_outs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("client_key", sa.String(length=128), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("phone", sa.String(length=20), nullable=True),
        sa.Column("evidence", sa.Text(), nullable=False),
        sa.Column("recorded_by", sa.String(length=64), nullable=False),
        sa.Column("opted_out_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_opt_outs")),
    )
    op.create_index("ix_opt_outs_at", "opt_outs", ["opted_out_at"])
    op.create_index("ix_opt_outs_phone", "opt_outs", ["phone"])
    # Every refusal recorded so far has a client-key row: it becomes one register entry, with the phone
    # its client blocked (possibly added by a later refusal).
    op.execute(
        "INSERT INTO opt_outs (client_key, channel, phone, evidence, recorded_by, opted_out_at) "
        "SELECT d.client_key, d.channel, COALESCE(d.phone, (SELECT p.key_value FROM do_not_contact p "
        "WHERE p.key_kind = 'phone' AND p.client_key = d.client_key ORDER BY p.id LIMIT 1)), d.evidence, "
        "CASE WHEN d.channel = 'voice' THEN 'voice' ELSE 'dialogue' END, d.opted_out_at "
        "FROM do_not_contact d WHERE d.key_kind = 'client' ORDER BY d.id"
    )

    with op.batch_alter_table("campaign_outcomes") as batch:
        batch.add_column(sa.Column("source", sa.String(length=16), nullable=False, server_default="imported"))
        batch.drop_constraint("uq_campaign_outcomes_key", type_="unique")
        batch.create_unique_constraint("uq_campaign_outcomes_key", [*_OUTCOME_KEY, "source"])
    op.create_index("ix_campaign_clients_client_id", "campaign_clients", ["client_id"])
    op.execute("UPDATE campaigns SET status = 'completed' WHERE status = 'done'")


def downgrade() -> None:
    op.execute("UPDATE campaigns SET status = 'done' WHERE status IN ('completed', 'archived')")
    op.execute("UPDATE campaigns SET status = 'planned' WHERE status = 'paused'")
    op.drop_index("ix_campaign_clients_client_id", table_name="campaign_clients")
    op.execute("DELETE FROM campaign_outcomes WHERE source <> 'imported'")
    with op.batch_alter_table("campaign_outcomes") as batch:
        batch.drop_constraint("uq_campaign_outcomes_key", type_="unique")
        batch.create_unique_constraint("uq_campaign_outcomes_key", _OUTCOME_KEY)
        batch.drop_column("source")
    op.drop_table("opt_outs")
    with op.batch_alter_table("leads") as batch:
        batch.drop_index("ix_leads_linked_client")
        for name, _ in reversed(_LEAD_COLUMNS):
            batch.drop_column(name)
