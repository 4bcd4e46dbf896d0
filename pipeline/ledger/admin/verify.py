"""``ledger verify``: the invariants of DESIGN.md §2 the ledger can check on its own.

Usage::

    problems = verify_ledger(engine, key_safety_margin_s=3600)
    for p in problems:
        print(p)        # "no-job-id-twice: job id 42 is on rows [7, 9]"

Each check is one portable SQL query returning offending ids; an empty list means the ledger
is consistent. Checks never modify anything.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from pipeline.errors import ExitCode
from pipeline.ledger.store import schema as t
from pipeline.ledger.store.failures import check_file
from pipeline.ledger.store.states import (
    B_CONFIRMED,
    B_PLANNED,
    BATCH_STATES,
    DUPLICATE,
    KEY_LIFETIME_S,
    REJECTED,
    REPORT_STATES,
    ROW_STATES,
    SENT,
)

_SHOW = 10  # offending ids shown per problem


@dataclass(frozen=True, slots=True)
class Problem:
    """One broken invariant with the ids that break it."""

    invariant: str
    message: str
    ids: tuple[object, ...]

    def __str__(self) -> str:
        more = f" (and {len(self.ids) - _SHOW} more)" if len(self.ids) > _SHOW else ""
        shown = ", ".join(str(i) for i in self.ids[:_SHOW])
        return f"{self.invariant}: {self.message}: {shown}{more}"


def _ids(conn: sa.Connection, query: sa.Select[tuple[object]]) -> tuple[object, ...]:
    return tuple(conn.execute(query).scalars())


def verify_ledger(engine: Engine, *, key_safety_margin_s: float = 3600.0) -> list[Problem]:
    """Run every check; returns the problems found (empty when the ledger is consistent).

    A SQLite file is first checked whole (``PRAGMA integrity_check``): a damaged one raises
    :class:`~pipeline.errors.LedgerDamagedError`, as its queries could not be believed.
    """
    check_file(engine, full=True)
    r, b, br, i, e = t.rows.c, t.batches.c, t.batch_rows.c, t.inputs.c, t.events.c
    lifetime = timedelta(seconds=KEY_LIFETIME_S - key_safety_margin_s)
    # The latest event of each batch, to compare with its stored state.
    last_event = (
        sa.select(e.to_state)
        .where(e.entity == "batch", e.entity_id == b.id)
        .order_by(e.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    row_count = sa.select(sa.func.count()).where(r.input_id == i.id).scalar_subquery()
    last_row = sa.select(sa.func.max(r.row_number)).where(r.input_id == i.id).scalar_subquery()
    checks: list[tuple[str, str, Callable[[], sa.Select[tuple[object]]]]] = [
        (
            "row-state",
            f"rows with a state that is not one of {', '.join(ROW_STATES)} (row ids)",
            lambda: sa.select(r.id).where(r.state.not_in(ROW_STATES)),
        ),
        (
            "sent-has-job-id",
            "rows marked sent without a job id (row ids)",
            lambda: sa.select(r.id).where(r.state == SENT, r.job_id.is_(None)),
        ),
        (
            "job-id-only-on-sent",
            "rows holding a job id but not marked sent (row ids)",
            lambda: sa.select(r.id).where(r.state != SENT, r.job_id.is_not(None)),
        ),
        (
            "no-job-id-twice",
            "job ids recorded on more than one row (job ids)",
            lambda: (
                sa.select(r.job_id)
                .where(r.job_id.is_not(None))
                .group_by(r.campaign_id, r.job_id)
                .having(sa.func.count() > 1)
            ),
        ),
        (
            "rejected-has-reason",
            "rejected rows without a reason code (row ids)",
            lambda: sa.select(r.id).where(r.state == REJECTED, r.reason_code.is_(None)),
        ),
        (
            "duplicate-points-at-row",
            "duplicate rows that do not name the row they repeat (row ids)",
            lambda: sa.select(r.id).where(r.state == DUPLICATE, r.duplicate_of.is_(None)),
        ),
        (
            "input-rows-add-up",
            "fully planned inputs whose row count differs from the rows read (input ids)",
            lambda: sa.select(i.id).where(
                i.rows_total.is_not(None),
                sa.or_(row_count != i.rows_total, sa.func.coalesce(last_row, 0) != i.rows_total),
            ),
        ),
        (
            "no-phone-twice-in-batch",
            "batches holding one phone twice (batch ids)",
            lambda: (
                sa.select(br.batch_id)
                .join(t.rows, r.id == br.row_id)
                # Purged rows (``ledger purge``) have no phone left to compare.
                .where(r.phone.is_not(None))
                .group_by(br.batch_id, r.phone)
                .having(sa.func.count() > 1)
            ),
        ),
        (
            "batch-size",
            "batches whose stored size differs from their rows (batch ids)",
            lambda: sa.select(b.id).where(
                b.size != sa.select(sa.func.count()).where(br.batch_id == b.id).scalar_subquery()
            ),
        ),
        (
            "batch-state",
            f"batches with a state not one of {', '.join(BATCH_STATES)} (batch ids)",
            lambda: sa.select(b.id).where(b.state.not_in(BATCH_STATES)),
        ),
        (
            "confirmed-all-sent",
            "confirmed batches with rows not sent or sent by another batch (batch ids)",
            lambda: sa.select(b.id).where(
                b.state == B_CONFIRMED,
                sa.exists(
                    sa.select(br.row_id)
                    .join(t.rows, r.id == br.row_id)
                    .where(
                        br.batch_id == b.id,
                        sa.or_(r.state != SENT, r.batch_id != b.id, r.job_id.is_(None)),
                    )
                ),
            ),
        ),
        (
            "key-one-digest",
            "request keys frozen with more than one body digest (keys)",
            lambda: (
                sa.select(b.request_key)
                .group_by(b.request_key)
                .having(sa.func.count(sa.distinct(b.body_sha256)) > 1)
            ),
        ),
        (
            "key-unique",
            "request keys used by more than one batch (keys)",
            lambda: sa.select(b.request_key).group_by(b.request_key).having(sa.func.count() > 1),
        ),
        (
            "attempts-recorded",
            "batches past 'planned' without a recorded attempt, or with attempts but no first "
            "send time (batch ids)",
            lambda: sa.select(b.id).where(
                sa.or_(
                    sa.and_(b.attempts > 0, b.first_sent_at.is_(None)),
                    sa.and_(b.state != B_PLANNED, b.attempts == 0),
                )
            ),
        ),
        (
            "events-match-states",
            "batches whose latest audit event does not end in their state (batch ids)",
            lambda: sa.select(b.id).where(sa.or_(last_event.is_(None), last_event != b.state)),
        ),
    ]
    problems: list[Problem] = []
    with engine.connect() as conn:
        for name, message, build in checks:
            ids = _ids(conn, build())
            if ids:
                problems.append(Problem(name, message, ids))
        problems.extend(_run_counts(conn))
        problems.extend(_sends_after_expiry(conn, lifetime))
    return problems


def _sends_after_expiry(conn: sa.Connection, lifetime: timedelta) -> list[Problem]:
    """No batch was sent again after its key may have expired.

    Compared in Python: date arithmetic in SQL differs between SQLite (text) and PostgreSQL.
    """
    b = t.batches.c
    query = sa.select(b.id, b.first_sent_at, b.last_sent_at).where(b.first_sent_at.is_not(None))
    bad = tuple(i for i, first, last in conn.execute(query) if last > first + lifetime)
    if not bad:
        return []
    message = "batches sent again after their key may have expired (batch ids)"
    return [Problem("no-send-after-expiry", message, bad)]


def _run_counts(conn: sa.Connection) -> list[Problem]:
    """Finished runs: the rows they counted per state at their end add up to their files' rows.

    Those counts are a snapshot, and the rows of a file only grow after it: a run interrupted
    while it planned a file (Ctrl-C, a kill, a lost lease) counted the rows planned so far, and
    the re-run of the same file adds the rest to the same input. So a finished run's total lies
    between the rows it planned itself (they existed when it counted) and the rows of its files
    now; a run that completed (exit 0) had planned every file to its end, so its total is
    exactly the rows of its files. A count outside those bounds was broken after the fact.
    """
    ri, r, runs = t.run_inputs.c, t.rows.c, t.runs.c
    per_run = sa.select(ri.run_id, sa.func.count()).join(t.rows, r.input_id == ri.input_id)
    now = _by_run(conn, per_run.group_by(ri.run_id))
    own = _by_run(conn, per_run.where(r.run_id == ri.run_id).group_by(ri.run_id))
    bad = []
    query = sa.select(runs.id, runs.counts, runs.exit_status).where(runs.counts.is_not(None))
    for run_id, counts, exit_status in conn.execute(query):
        stored = json.loads(counts)
        total = sum(int(stored.get(state, 0)) for state in REPORT_STATES)
        rows_now, rows_own = now.get(run_id, 0), own.get(run_id, 0)
        exact = exit_status == ExitCode.OK
        if total > rows_now or total < rows_own or (exact and total != rows_now):
            bad.append(run_id)
    if not bad:
        return []
    message = (
        "finished runs whose state counts do not add up to the rows of their files: fewer "
        "than the rows they planned, more than their files hold, or (complete runs) not all of "
        "them (run ids)"
    )
    return [Problem("run-counts-add-up", message, tuple(bad))]


def _by_run(conn: sa.Connection, query: sa.Select[Any]) -> dict[int, int]:
    return {int(row[0]): int(row[1]) for row in conn.execute(query)}
