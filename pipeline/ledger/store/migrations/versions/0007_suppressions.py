"""suppressions: the do-not-call list shared by every campaign of the ledger

Nothing existing changes: rows planned before this revision were never checked against a list,
and their states stand. Rows rejected by the list or a contact cap afterwards are ordinary
rejected rows (reason_code ``suppressed`` / ``contact_cap``).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06 06:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

TS = sa.DateTime(timezone=True)

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "suppressions",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("phone", sa.String(32), nullable=False),
        sa.Column("added_at", TS, nullable=False),
        sa.Column("added_by", sa.String(200), nullable=False),
        sa.Column("reason", sa.Text, nullable=False, server_default=""),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("job_id", sa.String(64), nullable=True),
        sa.Column("removed_at", TS, nullable=True),
        sa.Column("removed_by", sa.String(200), nullable=True),
        sa.Column("removed_reason", sa.Text, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_suppressions"),
    )
    op.create_index("ix_suppressions_phone", "suppressions", ["phone"])


def downgrade() -> None:
    op.drop_index("ix_suppressions_phone", table_name="suppressions")
    op.drop_table("suppressions")
