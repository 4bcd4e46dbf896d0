"""Audit queries behind ``jaicp-pipeline ledger runs|show|phone|export`` (read-only).

Usage::

    for run in list_runs(engine): ...
    report = show_run(engine, 12)              # run, its files with counts, batches by state
    for event in run_events(engine, 12, limit=50, offset=0): ...   # its decisions, in order
    for entry in phone_history(engine, "79161234567"): ...
    for line in iter_export(engine, run_id=12): ...   # one line per input row, as text
                                               # (written by pipeline.reports, injection-safe)
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from pipeline.errors import LedgerError
from pipeline.ledger.store import schema as t
from pipeline.ledger.store.states import report_state


@dataclass(frozen=True, slots=True)
class RunSummary:
    """One line of ``ledger runs``."""

    id: int
    command: str
    started_at: datetime
    finished_at: datetime | None
    exit_status: int | None
    files: list[dict[str, Any]]
    counts: dict[str, Any]


@dataclass(slots=True)
class RunReport:
    """``ledger show RUN``: the run, its inputs with row counts now, its batches by state."""

    run: RunSummary
    host: str
    pid: int
    config_digest: str
    inputs: list[dict[str, Any]] = field(default_factory=list)
    batches: dict[str, int] = field(default_factory=dict)
    events: int = 0


@dataclass(frozen=True, slots=True)
class AuditEvent:
    """One decision a run recorded: when, by whom, which entity, from → to, why.

    ``request_key`` is the batch's key for batch events (None for the others).
    """

    id: int
    at: datetime
    actor: str
    entity: str
    entity_id: int
    from_state: str | None
    to_state: str | None
    reason: str
    request_key: str | None


@dataclass(frozen=True, slots=True)
class BatchVisit:
    """One batch a row was frozen into."""

    batch_id: int
    request_key: str
    generation: int
    state: str
    attempts: int
    first_sent_at: datetime | None
    last_sent_at: datetime | None


@dataclass(slots=True)
class PhoneEntry:
    """One ledger row of a phone, with every batch it was in."""

    row_id: int
    file: str
    file_sha256: str
    row_number: int
    run_id: int
    row_key: str | None
    state: str
    reason: str | None
    duplicate_of: int | None
    job_id: str | None
    sent_at: datetime | None
    batches: list[BatchVisit] = field(default_factory=list)
    # the listed phone column the number came from, when not the first (rows.phone_column)
    phone_column: str | None = None


def _summary(row: Any) -> RunSummary:
    return RunSummary(
        id=row.id,
        command=row.command,
        started_at=row.started_at,
        finished_at=row.finished_at,
        exit_status=row.exit_status,
        files=json.loads(row.files),
        counts=json.loads(row.counts) if row.counts else {},
    )


def list_runs(engine: Engine, *, limit: int = 50) -> list[RunSummary]:
    """The latest runs, newest first."""
    with engine.connect() as conn:
        query = sa.select(t.runs).order_by(t.runs.c.id.desc()).limit(limit)
        return [_summary(row) for row in conn.execute(query)]


def show_run(engine: Engine, run_id: int) -> RunReport:
    """Everything about one run; raises LedgerError if it does not exist."""
    r, i, ri, b, br = t.rows.c, t.inputs.c, t.run_inputs.c, t.batches.c, t.batch_rows.c
    with engine.connect() as conn:
        row = conn.execute(sa.select(t.runs).where(t.runs.c.id == run_id)).first()
        if row is None:
            raise LedgerError(f"run {run_id} is not in the ledger; `ledger runs` lists the runs.")
        report = RunReport(_summary(row), row.host, row.pid, row.config_digest)
        for inp in conn.execute(
            sa.select(t.inputs).join(t.run_inputs, ri.input_id == i.id).where(ri.run_id == run_id)
        ):
            counts: dict[str, int] = {}
            for state, n in conn.execute(
                sa.select(r.state, sa.func.count()).where(r.input_id == inp.id).group_by(r.state)
            ):
                counts[report_state(state)] = counts.get(report_state(state), 0) + n
            report.inputs.append(
                {
                    "id": inp.id,
                    "name": inp.name,
                    "sha256": inp.sha256,
                    "rows": inp.rows_total,
                    "counts": counts,
                }
            )
            in_input = sa.select(br.batch_id).join(t.rows, r.id == br.row_id)
            for state, n in conn.execute(
                sa.select(b.state, sa.func.count())
                .where(b.id.in_(in_input.where(r.input_id == inp.id)))
                .group_by(b.state)
            ):
                report.batches[state] = report.batches.get(state, 0) + n
            # rows whose number came from a listed phone column other than the first
            report.inputs[-1]["phone_columns"] = dict(
                conn.execute(
                    sa.select(r.phone_column, sa.func.count())
                    .where(r.input_id == inp.id, r.phone_column.is_not(None))
                    .group_by(r.phone_column)
                    .order_by(r.phone_column)
                ).all()
            )
        report.events = conn.execute(
            sa.select(sa.func.count()).where(t.events.c.run_id == run_id)
        ).scalar_one()
    return report


def run_events(engine: Engine, run_id: int, *, limit: int, offset: int = 0) -> list[AuditEvent]:
    """The audit events of run ``run_id`` in the order they were written, one page of them."""
    e, b = t.events.c, t.batches.c
    query = (
        sa.select(
            e.id,
            e.at,
            e.actor,
            e.entity,
            e.entity_id,
            e.from_state,
            e.to_state,
            e.reason,
            b.request_key,
        )
        .outerjoin(t.batches, sa.and_(e.entity == "batch", b.id == e.entity_id))
        .where(e.run_id == run_id)
        .order_by(e.id)
        .limit(limit)
        .offset(offset)
    )
    with engine.connect() as conn:
        return [AuditEvent(*row) for row in conn.execute(query)]


def phone_history(engine: Engine, phone: str) -> list[PhoneEntry]:
    """Every row of ``phone`` (digits as planned) in every file, with its batches."""
    r, i, b, br = t.rows.c, t.inputs.c, t.batches.c, t.batch_rows.c
    entries: list[PhoneEntry] = []
    with engine.connect() as conn:
        query = (
            sa.select(t.rows, i.name, i.sha256)
            .join(t.inputs, i.id == r.input_id)
            .where(r.phone == phone)
            .order_by(r.id)
        )
        for row in conn.execute(query):
            entry = PhoneEntry(
                row.id,
                row.name,
                row.sha256,
                row.row_number,
                row.run_id,
                row.row_key,
                row.state,
                row.reason,
                row.duplicate_of,
                row.job_id,
                row.sent_at,
                phone_column=row.phone_column,
            )
            visits = conn.execute(
                sa.select(
                    b.id,
                    b.request_key,
                    b.generation,
                    b.state,
                    b.attempts,
                    b.first_sent_at,
                    b.last_sent_at,
                )
                .join(t.batch_rows, br.batch_id == b.id)
                .where(br.row_id == row.id)
                .order_by(b.id)
            )
            entry.batches = [BatchVisit(*v) for v in visits]
            entries.append(entry)
    return entries


EXPORT_COLUMNS = (
    "file",
    "row",
    "phone",
    "state",
    "ledger_state",
    "reason_code",
    "reason",
    "duplicate_of_row_id",
    "job_id",
    "sent_at",
    "batch_id",
    "request_key",
    "row_id",
    "run_id",
)


def _cell(value: object) -> str:
    if value is None:
        return ""
    return value.isoformat() if isinstance(value, datetime) else str(value)


def iter_export(engine: Engine, *, run_id: int | None = None) -> Iterator[list[str]]:
    """Export lines (header first); all rows, or the rows of one run's files.

    The cells are the ledger's text as it is: whoever writes them for a spreadsheet makes
    them safe (:func:`pipeline.reports.tables.write_csv`, the one formula rule).
    """
    r, i, b = t.rows.c, t.inputs.c, t.batches.c
    query = (
        sa.select(
            i.name,
            r.row_number,
            r.phone,
            r.state,
            r.reason_code,
            r.reason,
            r.duplicate_of,
            r.job_id,
            r.sent_at,
            r.batch_id,
            b.request_key,
            r.id,
            r.run_id,
        )
        .join(t.inputs, i.id == r.input_id)
        .outerjoin(t.batches, b.id == r.batch_id)
        .order_by(r.id)
    )
    if run_id is not None:
        query = query.where(
            r.input_id.in_(
                sa.select(t.run_inputs.c.input_id).where(t.run_inputs.c.run_id == run_id)
            )
        )
    yield list(EXPORT_COLUMNS)
    with engine.connect() as conn:
        result = conn.execution_options(yield_per=10_000).execute(query)
        for row in result:
            values = list(row)
            yield [_cell(v) for v in [*values[:3], report_state(values[3]), *values[3:]]]
