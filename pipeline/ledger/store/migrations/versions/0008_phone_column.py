"""rows.phone_column: which of the listed phone columns a row's number came from

Set only when ``columns.phone`` lists several headers and the number came from one other than
the first listed (NULL otherwise, to keep the table narrow). Rows planned before this revision
keep NULL: which column they came from was not recorded.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06 09:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("rows", sa.Column("phone_column", sa.Text, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("rows") as batch:
        batch.drop_column("phone_column")
