"""Visits carry the date their patient is due for review, so the due list is one indexed query.

Revision ID: 0002
Revises: 0001

Existing visits get the date from their newest assessment's `review.after_weeks` (the
contract's review block), or six months where an older assessment has none: the seed
guidance's default interval for reviewing a patient with muscle imbalance.
"""

from __future__ import annotations

import datetime as dt
import json

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

DEFAULT_WEEKS = 26


def upgrade() -> None:
    with op.batch_alter_table("visits") as batch:
        batch.add_column(sa.Column("review_due", sa.Date, nullable=True))
        batch.create_index("ix_visits_review_due", ["review_due"])
    connection = op.get_bind()
    visits = connection.execute(sa.text("SELECT id, seen_on FROM visits")).all()
    for visit_id, seen_on in visits:
        row = connection.execute(sa.text(
            "SELECT result FROM assessments WHERE visit_id = :v ORDER BY id DESC LIMIT 1"),
            {"v": visit_id}).first()
        result = row[0] if row else {}
        if isinstance(result, str):
            result = json.loads(result)
        weeks = ((result or {}).get("review") or {}).get("after_weeks") or DEFAULT_WEEKS
        if isinstance(seen_on, str):
            seen_on = dt.date.fromisoformat(seen_on)
        connection.execute(sa.text("UPDATE visits SET review_due = :d WHERE id = :v"),
                           {"d": seen_on + dt.timedelta(weeks=weeks), "v": visit_id})


def downgrade() -> None:
    with op.batch_alter_table("visits") as batch:
        batch.drop_index("ix_visits_review_due")
        batch.drop_column("review_due")
