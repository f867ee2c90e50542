"""Each assessment keeps the patient handout as it was rendered, beside the report.

Revision ID: 0004
Revises: 0003

Assessments made before this revision have no handout (NULL). The clinic fills one in the first
time it is opened, but only when the server runs the same KB version the assessment was made
with, since only then is a re-rendered handout the one the patient would have been given
(`clinic/routes/handout.py`); otherwise it says so and offers re-assessment. A migration never
runs the engine: it must work without the knowledge base.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("assessments") as batch:
        batch.add_column(sa.Column("handout_html", sa.Text, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("assessments") as batch:
        batch.drop_column("handout_html")
