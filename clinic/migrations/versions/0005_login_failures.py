"""Failed logins and used CDS bearer-token ids are kept in the database, so every worker process
of one server counts and sees the same ones.

Revision ID: 0005
Revises: 0004

Until 0004 the login limiter lived in one process's memory; with `serve --workers N` each worker
would have kept its own count and a guesser would get N times the tries. One row per failed
attempt and key (a user name or a client address); rows older than the limiter's window are
deleted as new failures come in, so the table stays small. Nothing older needs moving: an empty
table is the state a restart of the old server left. Likewise the ids (`jti`) of CDS Hooks bearer
tokens already accepted, until they expire: kept per process, a token replayed to another worker
would have been accepted again.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "login_failures",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("key", sa.String(200), nullable=False),
        sa.Column("at", sa.DateTime, nullable=False),
    )
    op.create_index("ix_login_failures_key_at", "login_failures", ["key", "at"])
    op.create_index("ix_login_failures_at", "login_failures", ["at"])
    op.create_table(
        "cds_tokens_seen",
        sa.Column("jti", sa.String(200), primary_key=True),
        sa.Column("forget_after", sa.DateTime, nullable=False),
    )
    op.create_index("ix_cds_tokens_seen_forget_after", "cds_tokens_seen", ["forget_after"])


def downgrade() -> None:
    op.drop_index("ix_cds_tokens_seen_forget_after", "cds_tokens_seen")
    op.drop_table("cds_tokens_seen")
    op.drop_index("ix_login_failures_at", "login_failures")
    op.drop_index("ix_login_failures_key_at", "login_failures")
    op.drop_table("login_failures")
