"""The ledger's tables (SQLAlchemy Core). Alembic migrations must produce exactly this.

``tests/ledger/test_migrations.py`` compares the migrated database with this metadata through
Alembic's autogenerate, so a change here without a migration fails the tests.

Times are stored as timezone-aware timestamps (UTC); JSON is stored as canonical text (sorted
keys, no spaces) so the body of a batch can be rebuilt byte-identical on both backends.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect

metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
    }
)


class UtcDateTime(sa.types.TypeDecorator[datetime]):
    """Aware UTC datetimes in and out, on both backends.

    PostgreSQL keeps the zone (``timestamptz``); SQLite has no zone type, so the value is stored
    as naive UTC text (which also sorts correctly) and the zone is put back when read.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: the ledger's clock must return aware UTC")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


TS = UtcDateTime()

campaigns = sa.Table(
    "campaigns",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    # A hash prefix of the token: tells campaigns apart, cannot be turned back into the token.
    sa.Column("fingerprint", sa.String(32), nullable=False, unique=True),
    sa.Column("label", sa.String(200), nullable=False, server_default=""),
    sa.Column("created_at", TS, nullable=False),
    # When an upload made sure the campaign held no numbers this ledger does not know about
    # (or the operator accepted a new ledger); NULL: no upload may send to it yet.
    sa.Column("server_checked_at", TS, nullable=True),
    sa.Column("server_numbers", sa.Integer, nullable=True),  # totalNumbers seen then
    # The most rows a batch of this campaign may hold (migration 0005): lowered each time the
    # server refuses a batch as too large (HTTP 413); every freeze honours it. NULL: no limit.
    sa.Column("max_batch_rows", sa.Integer, nullable=True),
)

runs = sa.Table(
    "runs",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("campaign_id", sa.ForeignKey("campaigns.id"), nullable=True),
    sa.Column("command", sa.String(40), nullable=False),
    sa.Column("files", sa.Text, nullable=False),  # JSON [{name, sha256, size}]
    sa.Column("config_digest", sa.String(64), nullable=False),
    sa.Column("host", sa.String(255), nullable=False),
    sa.Column("pid", sa.Integer, nullable=False),
    sa.Column("started_at", TS, nullable=False),
    sa.Column("finished_at", TS, nullable=True),
    sa.Column("exit_status", sa.Integer, nullable=True),
    sa.Column("counts", sa.Text, nullable=True),  # JSON {state: n, ...} at finish
)

inputs = sa.Table(
    "inputs",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("campaign_id", sa.ForeignKey("campaigns.id"), nullable=False),
    sa.Column("sha256", sa.String(64), nullable=False),
    sa.Column("name", sa.String(1000), nullable=False),
    sa.Column("first_run_id", sa.ForeignKey("runs.id"), nullable=False),
    # Rows 1..planned_through are in the ledger: planning resumes after it.
    sa.Column("planned_through", sa.Integer, nullable=False, server_default="0"),
    sa.Column("rows_total", sa.Integer, nullable=True),  # set once planning completed
    sa.Column("created_at", TS, nullable=False),
    sa.UniqueConstraint("campaign_id", "sha256"),
)

run_inputs = sa.Table(
    "run_inputs",
    metadata,
    sa.Column("run_id", sa.ForeignKey("runs.id"), primary_key=True),
    sa.Column("input_id", sa.ForeignKey("inputs.id"), primary_key=True),
)

batches = sa.Table(
    "batches",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("campaign_id", sa.ForeignKey("campaigns.id"), nullable=False),
    sa.Column("request_key", sa.String(36), nullable=False, unique=True),
    sa.Column("generation", sa.Integer, nullable=False),
    sa.Column("parent_id", sa.ForeignKey("batches.id"), nullable=True),
    sa.Column("body_sha256", sa.String(64), nullable=False),
    sa.Column("size", sa.Integer, nullable=False),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("created_at", TS, nullable=False),
    sa.Column("first_sent_at", TS, nullable=True),
    sa.Column("last_sent_at", TS, nullable=True),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("last_error", sa.Text, nullable=True),
    sa.Column("finished_at", TS, nullable=True),
    # Claim: which lease epoch is working on the batch (PostgreSQL: with SKIP LOCKED).
    sa.Column("claim_owner", sa.String(200), nullable=True),
    sa.Column("claim_epoch", sa.Integer, nullable=True),
    sa.Index(None, "campaign_id", "state"),
)

rows = sa.Table(
    "rows",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("input_id", sa.ForeignKey("inputs.id"), nullable=False),
    sa.Column("row_number", sa.Integer, nullable=False),
    sa.Column("run_id", sa.ForeignKey("runs.id"), nullable=False),
    sa.Column("campaign_id", sa.ForeignKey("campaigns.id"), nullable=False),
    # NULL for rows rejected at plan time. Not indexed: a hash index grows at random pages and
    # halves the planning rate; repeats are found through the phone index instead.
    sa.Column("row_key", sa.String(32), nullable=True),
    sa.Column("phone", sa.String(32), nullable=True),
    sa.Column("payload", sa.Text, nullable=True),
    sa.Column("policy", sa.Text, nullable=True),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("reason_code", sa.String(100), nullable=True),
    sa.Column("reason", sa.Text, nullable=True),
    sa.Column("duplicate_of", sa.ForeignKey("rows.id"), nullable=True),
    sa.Column("batch_id", sa.ForeignKey("batches.id"), nullable=True),
    sa.Column("job_id", sa.String(64), nullable=True),
    sa.Column("sent_at", TS, nullable=True),
    # How the row's gmtZone was decided (migration 0006): column, policy, number_prefix,
    # mobile_range, fallback; NULL when the tool decided none (policy.timezone not set).
    sa.Column("zone_source", sa.String(16), nullable=True),
    # The header of the phone column the number came from when columns.phone lists several
    # and it was not the first listed one (migration 0008); NULL otherwise, to keep rows narrow.
    sa.Column("phone_column", sa.Text, nullable=True),
    sa.UniqueConstraint("input_id", "row_number"),
    sa.Index(None, "phone"),
    # Only rows waiting to be frozen are indexed by campaign: the index stays small, and
    # marking rows batched/sent later does not churn it. (Partial indexes: SQLite ≥ 3.8, PG.)
    sa.Index(
        "ix_rows_planned",
        "campaign_id",
        "id",
        sqlite_where=sa.text("state = 'planned'"),
        postgresql_where=sa.text("state = 'planned'"),
    ),
)

# Frozen membership of a batch, in body order; never changes once written.
batch_rows = sa.Table(
    "batch_rows",
    metadata,
    sa.Column("batch_id", sa.ForeignKey("batches.id"), primary_key=True),
    sa.Column("position", sa.Integer, primary_key=True),
    sa.Column("row_id", sa.ForeignKey("rows.id"), nullable=False),
    sa.Index(None, "row_id"),
)

events = sa.Table(
    "events",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("at", TS, nullable=False),
    sa.Column("run_id", sa.ForeignKey("runs.id"), nullable=True),
    sa.Column("actor", sa.String(200), nullable=False),  # lease owner, or "cli"
    sa.Column("epoch", sa.Integer, nullable=True),
    sa.Column("entity", sa.String(16), nullable=False),  # run|input|row|batch|lease|campaign
    sa.Column("entity_id", sa.Integer, nullable=False),
    sa.Column("from_state", sa.String(16), nullable=True),
    sa.Column("to_state", sa.String(16), nullable=True),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Index(None, "entity", "entity_id"),
)

leases = sa.Table(
    "leases",
    metadata,
    sa.Column("campaign_id", sa.ForeignKey("campaigns.id"), primary_key=True),
    sa.Column("owner", sa.String(200), nullable=True),  # NULL once released
    sa.Column("epoch", sa.Integer, nullable=False),
    sa.Column("run_id", sa.ForeignKey("runs.id"), nullable=True),
    sa.Column("acquired_at", TS, nullable=False),
    sa.Column("expires_at", TS, nullable=False),
)

# Every upload process working on a campaign (migration 0003). Its id is the fencing token it
# stamps on the batches it claims; it is live while ``ended_at`` is NULL and ``expires_at`` is in
# the future. A worker that stops renewing (killed, frozen) is dead for good once it expires: its
# claims may be taken over, and its own later writes are refused.
workers = sa.Table(
    "workers",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("campaign_id", sa.ForeignKey("campaigns.id"), nullable=False),
    sa.Column("owner", sa.String(200), nullable=False, unique=True),  # host:pid:random
    sa.Column("run_id", sa.ForeignKey("runs.id"), nullable=True),
    sa.Column("started_at", TS, nullable=False),
    sa.Column("expires_at", TS, nullable=False),
    sa.Column("ended_at", TS, nullable=True),
    sa.Index(None, "campaign_id", "ended_at"),
)

# ---- Call outcomes and cancellations (migration 0002; pipeline/ledger/outcomes.py) ----------

# The latest report of each sent row's call job, as `results` last fetched it. One row per
# ledger row, replaced on every fetch: the server is the source of truth, this is its snapshot.
job_outcomes = sa.Table(
    "job_outcomes",
    metadata,
    sa.Column("row_id", sa.ForeignKey("rows.id"), primary_key=True),
    sa.Column("job_id", sa.String(64), nullable=False),
    sa.Column("job_status", sa.String(40), nullable=False),  # normalised; "not_found" if gone
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("call_result", sa.String(200), nullable=True),
    sa.Column("call_duration_s", sa.Integer, nullable=True),
    sa.Column("finished_at", TS, nullable=True),
    sa.Column("report_data", sa.Text, nullable=True),  # canonical JSON
    sa.Column("fetched_at", TS, nullable=False),
)

# One `callJob/cancel` request: its key and jobs are stored before it is sent (intent before
# effect, like upload's batches); `done` once the reply was recorded.
cancel_requests = sa.Table(
    "cancel_requests",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("campaign_id", sa.ForeignKey("campaigns.id"), nullable=False),
    sa.Column("run_id", sa.ForeignKey("runs.id"), nullable=False),
    sa.Column("request_key", sa.String(36), nullable=False, unique=True),
    sa.Column("state", sa.String(16), nullable=False),  # planned | done
    sa.Column("created_at", TS, nullable=False),
    sa.Column("first_sent_at", TS, nullable=True),
    sa.Column("finished_at", TS, nullable=True),
    sa.Index(None, "campaign_id", "state"),
)

# The jobs of a cancel request, in body order; `cancelled` is what the server answered
# (false: the job had already finished, so there was nothing to cancel).
cancel_items = sa.Table(
    "cancel_items",
    metadata,
    sa.Column("request_id", sa.ForeignKey("cancel_requests.id"), primary_key=True),
    sa.Column("position", sa.Integer, primary_key=True),
    sa.Column("row_id", sa.ForeignKey("rows.id"), nullable=False),
    sa.Column("job_id", sa.String(64), nullable=False),
    sa.Column("cancelled", sa.Boolean, nullable=True),
    sa.Index(None, "row_id"),
)

# ---- The do-not-call list (migration 0007; pipeline/ledger/transitions/suppressions.py) ------

# One row per time a phone was put on the list; ``removed_at`` set when it was taken off (the
# row stays, so an auditor sees that a phone was on the list, since when, why and until when).
# A phone is suppressed while one of its rows has no ``removed_at``. Shared by every campaign
# of the ledger. ``source``: manual | file | opt_out (``job_id``: the call whose result opted out).
suppressions = sa.Table(
    "suppressions",
    metadata,
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
    sa.Index(None, "phone"),
)
