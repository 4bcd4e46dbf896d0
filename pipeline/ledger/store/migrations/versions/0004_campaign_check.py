"""campaigns: when this ledger made sure the campaign held no numbers it does not know about

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-06 02:00:00

``server_checked_at`` is set when an upload first found the campaign empty on the server
(``campaign info`` → ``totalNumbers`` 0) or the operator accepted a new ledger with
``--new-ledger``; ``server_numbers`` is the ``totalNumbers`` seen then. A campaign this ledger
already sent batches to before the column existed counts as checked from its creation.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("campaigns") as batch:
        batch.add_column(sa.Column("server_checked_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("server_numbers", sa.Integer(), nullable=True))
    op.execute(
        "UPDATE campaigns SET server_checked_at = created_at "
        "WHERE EXISTS (SELECT 1 FROM batches WHERE batches.campaign_id = campaigns.id)"
    )


def downgrade() -> None:
    with op.batch_alter_table("campaigns") as batch:
        batch.drop_column("server_numbers")
        batch.drop_column("server_checked_at")
