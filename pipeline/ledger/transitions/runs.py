"""Runs: one per invocation — who ran what, on which files, with what result.

Usage::

    run_id = ledger.runs.start(command="upload", files=[InputFile("x.csv", sha, size)],
                               config_digest=digest, campaign_id=campaign.id)
    ...
    counts = ledger.runs.finish(run_id, exit_status=0, stats={"retries": 3})
    counts["sent"], counts["pending"]          # the rows of the run's files per state
    ledger.runs.pending_rows(campaign.id)      # rows of the campaign left for a next run
    ledger.runs.exists(run_id)
    ledger.runs.sent_rows(campaign.id, [sha256, ...])   # rows of those files sent so far
                                                        # (None: the same as at the run's end)
"""

from __future__ import annotations

import json
import os
import socket
from collections.abc import Mapping, Sequence
from dataclasses import asdict

import sqlalchemy as sa

from pipeline.errors import LedgerError
from pipeline.ledger.store import schema as t
from pipeline.ledger.store.bulk import driver_sql
from pipeline.ledger.store.database import Store, inserted_id
from pipeline.ledger.store.states import (
    B_SENDABLE,
    BATCHED,
    PLANNED,
    REPORT_STATES,
    SENT,
    report_state,
)
from pipeline.records import InputFile


class Runs:
    """``ledger.runs``: the start and end of every invocation, with its counts."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def start(
        self,
        *,
        command: str,
        files: Sequence[InputFile],
        config_digest: str,
        campaign_id: int | None = None,
        host: str | None = None,
        pid: int | None = None,
    ) -> int:
        """Record the start of an invocation; returns the run id."""
        with self.store.transaction() as conn:
            run_id: int = inserted_id(
                conn.execute(
                    sa.insert(t.runs).values(
                        campaign_id=campaign_id,
                        command=command,
                        files=json.dumps([asdict(f) for f in files]),
                        config_digest=config_digest,
                        host=host or socket.gethostname(),
                        pid=os.getpid() if pid is None else pid,
                        started_at=self.store.now(),
                    )
                )
            )
            self.store.event(
                conn,
                entity="run",
                entity_id=run_id,
                from_state=None,
                to_state="running",
                reason=f"{command} started with {len(files)} file(s)",
                run_id=run_id,
            )
        return run_id

    def _counts(self, conn: sa.Connection, run_id: int) -> dict[str, int]:
        """Rows of the run's input files per reporting state (sent/rejected/duplicate/pending)."""
        counts = dict.fromkeys(REPORT_STATES, 0)
        query = (
            sa.select(t.rows.c.state, sa.func.count())
            .join(t.run_inputs, t.run_inputs.c.input_id == t.rows.c.input_id)
            .where(t.run_inputs.c.run_id == run_id)
            .group_by(t.rows.c.state)
        )
        for state, n in conn.execute(query):
            counts[report_state(state)] += n
        return counts

    def finish(
        self,
        run_id: int,
        *,
        exit_status: int,
        stats: Mapping[str, int | float] | None = None,
        all_sent_before: bool = False,
    ) -> dict[str, int | float]:
        """Record the end of a run with its row counts (plus the caller's ``stats``).

        ``all_sent_before``: every sent row of the run's files was sent before it started
        (:meth:`sent_rows` said None), recorded as ``sent_before``.
        """
        with self.store.transaction() as conn:
            counts: dict[str, int | float] = dict(self._counts(conn, run_id))
            counts.update(stats or {})
            if all_sent_before:
                counts["sent_before"] = counts["sent"]
            done = conn.execute(
                sa.update(t.runs)
                .where(t.runs.c.id == run_id, t.runs.c.finished_at.is_(None))
                .values(
                    finished_at=self.store.now(), exit_status=exit_status, counts=json.dumps(counts)
                )
            )
            if done.rowcount != 1:
                raise LedgerError(f"run {run_id} does not exist or has already finished.")
            self.store.event(
                conn,
                entity="run",
                entity_id=run_id,
                from_state="running",
                to_state="finished",
                reason=f"exit status {exit_status}",
                run_id=run_id,
            )
        return counts

    def exists(self, run_id: int) -> bool:
        """Whether run ``run_id`` is in this ledger."""
        with self.store.engine.connect() as conn:
            found = conn.execute(sa.select(t.runs.c.id).where(t.runs.c.id == run_id)).first()
        return found is not None

    def sent_rows(self, campaign_id: int, sha256s: Sequence[str]) -> int | None:
        """Rows of the campaign's files with these digests that are sent now (asked at a run's
        start, it tells what earlier runs had sent of the run's files).

        None when no row of these files can be sent from now on: every file was planned
        completely and the campaign has no planned row and no batch still open (a row becomes
        sent only out of a batch that is still open). Then the count at the run's end is the
        answer, and the re-run of a finished file does not scan its rows twice (one scan of
        300,000 rows cost a fifth of such a re-run).
        """
        r, i = t.rows.c, t.inputs.c
        wanted = set(sha256s)
        with self.store.engine.connect() as conn:
            totals = conn.execute(
                sa.select(i.rows_total).where(
                    i.campaign_id == campaign_id, i.sha256.in_(sorted(wanted))
                )
            ).all()
            if not totals:
                return 0  # none of the files was seen before
            if (
                len(totals) == len(wanted)
                and all(total is not None for (total,) in totals)
                and not _in_flight(conn, campaign_id)
            ):
                return None
            query = (
                sa.select(sa.func.count())
                .select_from(t.rows.join(t.inputs, i.id == r.input_id))
                .where(i.campaign_id == campaign_id, i.sha256.in_(list(sha256s)), r.state == SENT)
            )
            return int(conn.execute(query).scalar_one())

    def pending_rows(self, campaign_id: int) -> int:
        """Rows of the campaign still on their way (planned or batched): work for a next run."""
        r = t.rows.c
        query = sa.select(sa.func.count()).where(
            r.campaign_id == campaign_id, r.state.in_((PLANNED, BATCHED))
        )
        with self.store.engine.connect() as conn:
            return int(conn.execute(query).scalar_one())


# The state a literal, not a bound parameter: only then can SQLite use the partial index
# ix_rows_planned (see pipeline.ledger.transitions.freezing).
_ANY_PLANNED = "SELECT 1 FROM rows WHERE campaign_id = ? AND state = 'planned' LIMIT 1"
_ANY_OPEN_BATCH = (
    "SELECT 1 FROM batches WHERE campaign_id = ? "
    "AND state IN ('planned', 'sending', 'unknown') LIMIT 1"
)
assert all(f"'{state}'" in _ANY_OPEN_BATCH for state in B_SENDABLE)


def _in_flight(conn: sa.Connection, campaign_id: int) -> bool:
    """Whether the campaign has a row waiting to be frozen or a batch not yet settled (both
    found through an index, without a scan of the rows)."""
    return any(
        conn.exec_driver_sql(driver_sql(conn, sql), (campaign_id,)).first() is not None
        for sql in (_ANY_PLANNED, _ANY_OPEN_BATCH)
    )
