"""The CDS Hooks service's tables: each call (for the card's report link), the cards sent, and
the feedback clinicians gave on them (clinic/cds_store.py).

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "cds_calls",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("hook_instance", sa.String(100), nullable=False, index=True),
        sa.Column("report_token", sa.String(64), nullable=False, unique=True),
        sa.Column("patient_ref", sa.String(200), nullable=False),
        sa.Column("response", sa.JSON, nullable=False),
        sa.Column("kb_version", sa.String(200), nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
    )
    op.create_table(
        "cds_cards",
        sa.Column("uuid", sa.String(36), primary_key=True),
        sa.Column("call_id", sa.Integer, sa.ForeignKey("cds_calls.id", ondelete="CASCADE"),
                  nullable=False, index=True),
        sa.Column("subject", sa.String(100), nullable=False),
        sa.Column("indicator", sa.String(10), nullable=False),
        sa.Column("rules", sa.JSON, nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
    )
    op.create_table(
        "cds_feedback",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("card_uuid", sa.String(36), sa.ForeignKey("cds_cards.uuid", ondelete="CASCADE"),
                  nullable=False, index=True),
        sa.Column("outcome", sa.String(12), nullable=False),
        sa.Column("reason_code", sa.String(100), nullable=False),
        sa.Column("reason_display", sa.String(300), nullable=False),
        sa.Column("comment", sa.Text, nullable=False),
        sa.Column("outcome_at", sa.DateTime, nullable=False),
        sa.Column("received_at", sa.DateTime, nullable=False),
    )


def downgrade() -> None:
    for table in ("cds_feedback", "cds_cards", "cds_calls"):
        op.drop_table(table)
