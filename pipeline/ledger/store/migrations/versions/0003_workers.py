"""workers: the upload processes sharing a campaign's batches (PostgreSQL work sharing)

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27 04:00:00
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
        "workers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("owner", sa.String(length=200), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["campaign_id"], ["campaigns.id"], name=op.f("fk_workers_campaign_id_campaigns")
        ),
        sa.ForeignKeyConstraint(["run_id"], ["runs.id"], name=op.f("fk_workers_run_id_runs")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_workers")),
        sa.UniqueConstraint("owner", name=op.f("uq_workers_owner")),
    )
    op.create_index(op.f("ix_workers_campaign_id_ended_at"), "workers", ["campaign_id", "ended_at"])


def downgrade() -> None:
    op.drop_index(op.f("ix_workers_campaign_id_ended_at"), table_name="workers")
    op.drop_table("workers")
