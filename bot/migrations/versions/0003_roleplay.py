"""Role-play training history: sessions, turns, per-criterion scores, violations.

Revision ID: 0003_roleplay
Revises: 0001_leads_contacts
Create Date: 2026-01-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_roleplay"
down_revision = "0001_leads_contacts"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "roleplay_sessions",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("advisor_id", sa.String(length=128), nullable=False),
        sa.Column("persona_id", sa.String(length=64), nullable=False),
        sa.Column("seed", sa.Integer(), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("score", sa.Float(), nullable=True),
        sa.Column("max_score", sa.Float(), nullable=True),
        sa.Column("passed", sa.Boolean(), nullable=True),
        sa.Column("report_json", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_roleplay_sessions")),
    )
    op.create_index(op.f("ix_roleplay_sessions_advisor_id"), "roleplay_sessions", ["advisor_id"])

    op.create_table(
        "roleplay_turns",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("session_id", sa.String(length=32), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("engine", sa.String(length=16), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["roleplay_sessions.id"],
            name=op.f("fk_roleplay_turns_session_id_roleplay_sessions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_roleplay_turns")),
        sa.UniqueConstraint("session_id", "position", name=op.f("uq_roleplay_turns_session_id")),
    )
    op.create_index(op.f("ix_roleplay_turns_session_id"), "roleplay_turns", ["session_id"])

    op.create_table(
        "roleplay_criterion_scores",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("session_id", sa.String(length=32), nullable=False),
        sa.Column("criterion", sa.String(length=32), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("max", sa.Float(), nullable=False),
        sa.Column("passed", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["roleplay_sessions.id"],
            name=op.f("fk_roleplay_criterion_scores_session_id_roleplay_sessions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_roleplay_criterion_scores")),
    )
    op.create_index(op.f("ix_roleplay_criterion_scores_session_id"), "roleplay_criterion_scores", ["session_id"])
    op.create_index(op.f("ix_roleplay_criterion_scores_criterion"), "roleplay_criterion_scores", ["criterion"])

    op.create_table(
        "roleplay_violations",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("session_id", sa.String(length=32), nullable=False),
        sa.Column("rule", sa.String(length=64), nullable=False),
        sa.Column("critical", sa.Boolean(), nullable=False),
        sa.Column("quote", sa.Text(), nullable=True),
        sa.Column("turn", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["roleplay_sessions.id"],
            name=op.f("fk_roleplay_violations_session_id_roleplay_sessions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_roleplay_violations")),
    )
    op.create_index(op.f("ix_roleplay_violations_session_id"), "roleplay_violations", ["session_id"])
    op.create_index(op.f("ix_roleplay_violations_rule"), "roleplay_violations", ["rule"])


def downgrade() -> None:
    op.drop_table("roleplay_violations")
    op.drop_table("roleplay_criterion_scores")
    op.drop_table("roleplay_turns")
    op.drop_table("roleplay_sessions")
