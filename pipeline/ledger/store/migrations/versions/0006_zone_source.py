"""rows.zone_source: how each row's gmtZone was decided (column, number, fallback, ...)

Rows planned before this revision keep NULL: no decision was recorded for them (they were
sent with the zone of their column or fixed policy, if any, and the dialer decided the rest).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06 05:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("rows", sa.Column("zone_source", sa.String(16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("rows") as batch:
        batch.drop_column("zone_source")
