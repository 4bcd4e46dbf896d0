"""call outcomes and cancellations: job_outcomes, cancel_requests, cancel_items

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "job_outcomes",
        sa.Column("row_id", sa.Integer(), nullable=False),
        sa.Column("job_id", sa.String(length=64), nullable=False),
        sa.Column("job_status", sa.String(length=40), nullable=False),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("call_result", sa.String(length=200), nullable=True),
        sa.Column("call_duration_s", sa.Integer(), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("report_data", sa.Text(), nullable=True),
        sa.Column("fetched_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["row_id"], ["rows.id"], name=op.f("fk_job_outcomes_row_id_rows")),
        sa.PrimaryKeyConstraint("row_id", name=op.f("pk_job_outcomes")),
    )
    op.create_table(
        "cancel_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("request_key", sa.String(length=36), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("first_sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaigns.id"],
            name=op.f("fk_cancel_requests_campaign_id_campaigns"),
        ),
        sa.ForeignKeyConstraint(
            ["run_id"], ["runs.id"], name=op.f("fk_cancel_requests_run_id_runs")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cancel_requests")),
        sa.UniqueConstraint("request_key", name=op.f("uq_cancel_requests_request_key")),
    )
    with op.batch_alter_table("cancel_requests", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_cancel_requests_campaign_id_state"),
            ["campaign_id", "state"],
            unique=False,
        )
    op.create_table(
        "cancel_items",
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("row_id", sa.Integer(), nullable=False),
        sa.Column("job_id", sa.String(length=64), nullable=False),
        sa.Column("cancelled", sa.Boolean(), nullable=True),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["cancel_requests.id"],
            name=op.f("fk_cancel_items_request_id_cancel_requests"),
        ),
        sa.ForeignKeyConstraint(["row_id"], ["rows.id"], name=op.f("fk_cancel_items_row_id_rows")),
        sa.PrimaryKeyConstraint("request_id", "position", name=op.f("pk_cancel_items")),
    )
    with op.batch_alter_table("cancel_items", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_cancel_items_row_id"), ["row_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("cancel_items", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_cancel_items_row_id"))
    op.drop_table("cancel_items")
    with op.batch_alter_table("cancel_requests", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_cancel_requests_campaign_id_state"))
    op.drop_table("cancel_requests")
    op.drop_table("job_outcomes")
