"""initial schema: campaigns, runs, inputs, rows, batches, events, leases

Revision ID: 0001
Revises: (none)
Create Date: 2026-11-26 23:18:35.520861
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "campaigns",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("fingerprint", sa.String(length=32), nullable=False),
        sa.Column("label", sa.String(length=200), server_default="", nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaigns")),
        sa.UniqueConstraint("fingerprint", name=op.f("uq_campaigns_fingerprint")),
    )
    op.create_table(
        "batches",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("request_key", sa.String(length=36), nullable=False),
        sa.Column("generation", sa.Integer(), nullable=False),
        sa.Column("parent_id", sa.Integer(), nullable=True),
        sa.Column("body_sha256", sa.String(length=64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("first_sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("claim_owner", sa.String(length=200), nullable=True),
        sa.Column("claim_epoch", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["campaign_id"], ["campaigns.id"], name=op.f("fk_batches_campaign_id_campaigns")
        ),
        sa.ForeignKeyConstraint(
            ["parent_id"], ["batches.id"], name=op.f("fk_batches_parent_id_batches")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_batches")),
        sa.UniqueConstraint("request_key", name=op.f("uq_batches_request_key")),
    )
    with op.batch_alter_table("batches", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_batches_campaign_id_state"), ["campaign_id", "state"], unique=False
        )

    op.create_table(
        "runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=True),
        sa.Column("command", sa.String(length=40), nullable=False),
        sa.Column("files", sa.Text(), nullable=False),
        sa.Column("config_digest", sa.String(length=64), nullable=False),
        sa.Column("host", sa.String(length=255), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("exit_status", sa.Integer(), nullable=True),
        sa.Column("counts", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["campaign_id"], ["campaigns.id"], name=op.f("fk_runs_campaign_id_campaigns")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_runs")),
    )
    op.create_table(
        "events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=True),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("epoch", sa.Integer(), nullable=True),
        sa.Column("entity", sa.String(length=16), nullable=False),
        sa.Column("entity_id", sa.Integer(), nullable=False),
        sa.Column("from_state", sa.String(length=16), nullable=True),
        sa.Column("to_state", sa.String(length=16), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["run_id"], ["runs.id"], name=op.f("fk_events_run_id_runs")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_events")),
    )
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_events_entity_entity_id"), ["entity", "entity_id"], unique=False
        )

    op.create_table(
        "inputs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=1000), nullable=False),
        sa.Column("first_run_id", sa.Integer(), nullable=False),
        sa.Column("planned_through", sa.Integer(), server_default="0", nullable=False),
        sa.Column("rows_total", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"], ["campaigns.id"], name=op.f("fk_inputs_campaign_id_campaigns")
        ),
        sa.ForeignKeyConstraint(
            ["first_run_id"], ["runs.id"], name=op.f("fk_inputs_first_run_id_runs")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inputs")),
        sa.UniqueConstraint("campaign_id", "sha256", name=op.f("uq_inputs_campaign_id_sha256")),
    )
    op.create_table(
        "leases",
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("owner", sa.String(length=200), nullable=True),
        sa.Column("epoch", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=True),
        sa.Column("acquired_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"], ["campaigns.id"], name=op.f("fk_leases_campaign_id_campaigns")
        ),
        sa.ForeignKeyConstraint(["run_id"], ["runs.id"], name=op.f("fk_leases_run_id_runs")),
        sa.PrimaryKeyConstraint("campaign_id", name=op.f("pk_leases")),
    )
    op.create_table(
        "rows",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("input_id", sa.Integer(), nullable=False),
        sa.Column("row_number", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("row_key", sa.String(length=32), nullable=True),
        sa.Column("phone", sa.String(length=32), nullable=True),
        sa.Column("payload", sa.Text(), nullable=True),
        sa.Column("policy", sa.Text(), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("reason_code", sa.String(length=100), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("duplicate_of", sa.Integer(), nullable=True),
        sa.Column("batch_id", sa.Integer(), nullable=True),
        sa.Column("job_id", sa.String(length=64), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["batch_id"], ["batches.id"], name=op.f("fk_rows_batch_id_batches")
        ),
        sa.ForeignKeyConstraint(
            ["campaign_id"], ["campaigns.id"], name=op.f("fk_rows_campaign_id_campaigns")
        ),
        sa.ForeignKeyConstraint(
            ["duplicate_of"], ["rows.id"], name=op.f("fk_rows_duplicate_of_rows")
        ),
        sa.ForeignKeyConstraint(["input_id"], ["inputs.id"], name=op.f("fk_rows_input_id_inputs")),
        sa.ForeignKeyConstraint(["run_id"], ["runs.id"], name=op.f("fk_rows_run_id_runs")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rows")),
        sa.UniqueConstraint("input_id", "row_number", name=op.f("uq_rows_input_id_row_number")),
    )
    with op.batch_alter_table("rows", schema=None) as batch_op:
        batch_op.create_index(
            "ix_rows_planned",
            ["campaign_id", "id"],
            unique=False,
            sqlite_where=sa.text("state = 'planned'"),
            postgresql_where=sa.text("state = 'planned'"),
        )
        batch_op.create_index(batch_op.f("ix_rows_phone"), ["phone"], unique=False)

    op.create_table(
        "run_inputs",
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("input_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["input_id"], ["inputs.id"], name=op.f("fk_run_inputs_input_id_inputs")
        ),
        sa.ForeignKeyConstraint(["run_id"], ["runs.id"], name=op.f("fk_run_inputs_run_id_runs")),
        sa.PrimaryKeyConstraint("run_id", "input_id", name=op.f("pk_run_inputs")),
    )
    op.create_table(
        "batch_rows",
        sa.Column("batch_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("row_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["batch_id"], ["batches.id"], name=op.f("fk_batch_rows_batch_id_batches")
        ),
        sa.ForeignKeyConstraint(["row_id"], ["rows.id"], name=op.f("fk_batch_rows_row_id_rows")),
        sa.PrimaryKeyConstraint("batch_id", "position", name=op.f("pk_batch_rows")),
    )
    with op.batch_alter_table("batch_rows", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_batch_rows_row_id"), ["row_id"], unique=False)


def downgrade() -> None:

    with op.batch_alter_table("batch_rows", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_batch_rows_row_id"))

    op.drop_table("batch_rows")
    op.drop_table("run_inputs")
    with op.batch_alter_table("rows", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_rows_phone"))
        batch_op.drop_index("ix_rows_planned")

    op.drop_table("rows")
    op.drop_table("leases")
    op.drop_table("inputs")
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_events_entity_entity_id"))

    op.drop_table("events")
    op.drop_table("runs")
    with op.batch_alter_table("batches", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_batches_campaign_id_state"))

    op.drop_table("batches")
    op.drop_table("campaigns")
