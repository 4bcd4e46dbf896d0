"""Replies: what the server answered to a batch's request, recorded in one transaction.

Usage (after ``ledger.sending.mark_attempt(lease, work.id)`` and the request)::

    try:
        ids = client.add_phones_body(body, idempotence_key=work.request_key)
    except TransientApiError as exc:
        ledger.replies.record_unknown(lease, work.id, error=str(exc))    # retry: same key
    except BadRequestError as exc:
        if exc.phone: ledger.replies.record_bad_row(lease, work.id, phone=exc.phone, ...)
        else:         ledger.replies.record_rejected(lease, work.id, code=exc.error_type, ...)
    else:
        ledger.replies.record_success(lease, work.id, ids)

Every outcome must find the writer's own claim on a batch that was sent (sending/unknown);
``record_successes`` records several batches in one transaction (one flush for all). A refusal
that names no row, or a 413, is split instead (:mod:`.splits`).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from pipeline.errors import LedgerError
from pipeline.ledger.sharing.claims import check_in_doubt, locked_batches
from pipeline.ledger.sharing.holders import Holder, fence
from pipeline.ledger.store import schema as t
from pipeline.ledger.store.bulk import db_value, driver_sql, executemany
from pipeline.ledger.store.database import Store, clean_error
from pipeline.ledger.store.states import (
    B_CONFIRMED,
    B_REJECTED,
    B_UNKNOWN,
    PLANNED,
    REJECTED,
    SENT,
)
from pipeline.ledger.transitions.batches import members

# Each row written once: its state, send time and job id together (a row's UPDATE rewrites the
# row and moves it when it grows, which is most of the cost of recording an outcome). Through
# the driver with plain values, like _CONFIRM: SQLAlchemy's per-row parameter processing would
# cost more than the statements themselves.
_SET_SENT = "UPDATE rows SET state = ?, sent_at = ?, job_id = ? WHERE id = ?"
_CONFIRM = "UPDATE batches SET state = ?, finished_at = ? WHERE id = ?"


class Replies:
    """``ledger.replies``: the outcome of each sent batch (confirmed, rejected, unknown)."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def _outcome_batch(self, conn: sa.Connection, lease: Holder, batch_id: int) -> Any:
        fence(conn, lease, now=self.store.now)
        # Locked until commit: a worker taking the batch over waits (or skips it) until this
        # outcome is in, and then finds it settled.
        return check_in_doubt(locked_batches(conn, [batch_id]).get(batch_id), batch_id, lease)

    def _set_batch(
        self,
        conn: sa.Connection,
        lease: Holder,
        batch: Any,
        state: str,
        why: str,
        *,
        error: str | None = None,
        finished: bool = True,
    ) -> None:
        now = self.store.now()
        values: dict[str, object] = {"state": state}
        if finished:
            values["finished_at"] = now
        if error is not None:
            values["last_error"] = error
        conn.execute(sa.update(t.batches).where(t.batches.c.id == batch.id).values(**values))
        self.store.event(
            conn,
            entity="batch",
            entity_id=batch.id,
            from_state=batch.state,
            to_state=state,
            reason=why,
            by=lease,
            at=now,
        )

    def record_success(self, lease: Holder, batch_id: int, job_ids: Sequence[str]) -> None:
        """The server created the jobs: each row gets its job id, the batch is confirmed."""
        self.record_successes(lease, [(batch_id, job_ids)])

    def record_successes(
        self, lease: Holder, outcomes: Sequence[tuple[int, Sequence[str]]]
    ) -> None:
        """:meth:`record_success` for several batches (batch id, job ids) in ONE durable
        transaction; all or nothing (a wrong number of job ids records none of them)."""
        with self.store.transaction() as conn:
            fence(conn, lease, now=self.store.now)
            ids = [batch_id for batch_id, _jobs in outcomes]
            # Locked until commit: a worker taking a batch over waits (or skips it) until this
            # outcome is in, and then finds it settled.
            found = locked_batches(conn, ids)
            rows_of = members(conn, ids)
            now = self.store.now()
            row_ids: list[int] = []
            jobs: list[str] = []
            events: list[tuple[str, int, str | None, str | None, str]] = []
            for batch_id, job_ids in outcomes:
                batch = check_in_doubt(found.get(batch_id), batch_id, lease)
                rows = rows_of.get(batch_id, [])
                if len(job_ids) != len(rows):
                    raise LedgerError(
                        f"batch {batch_id}: the server returned {len(job_ids)} job ids for "
                        f"{len(rows)} phones; nothing was recorded. Treat the outcome as "
                        f"unknown."
                    )
                row_ids += rows
                jobs += job_ids
                reason = f"{len(job_ids)} jobs created"
                events.append(("batch", batch_id, batch.state, B_CONFIRMED, reason))
            mark_sent(conn, row_ids, jobs, now)
            finished = db_value(conn, t.batches.c.finished_at, now)
            executemany(conn, _CONFIRM, [(B_CONFIRMED, finished, batch_id) for batch_id in ids])
            self.store.events(conn, events, by=lease, at=now)

    def record_unknown(self, lease: Holder, batch_id: int, *, error: str) -> None:
        """The send failed in a way that may or may not have created jobs (transient error)."""
        with self.store.transaction() as conn:
            batch = self._outcome_batch(conn, lease, batch_id)
            text = clean_error(error)
            self._set_batch(
                conn,
                lease,
                batch,
                B_UNKNOWN,
                f"outcome unknown: {text}",
                error=text,
                finished=False,
            )

    def record_rejected(self, lease: Holder, batch_id: int, *, code: str, message: str) -> None:
        """HTTP 400 for the whole batch (nothing created): every row rejected with the reason."""
        with self.store.transaction() as conn:
            batch = self._outcome_batch(conn, lease, batch_id)
            text = clean_error(message)
            conn.execute(
                sa.update(t.rows)
                .where(t.rows.c.batch_id == batch_id)
                .values(state=REJECTED, reason_code=code, reason=text)
            )
            self._set_batch(
                conn,
                lease,
                batch,
                B_REJECTED,
                f"rejected by the server: {code}: {text}",
                error=text,
            )

    def record_bad_row(
        self, lease: Holder, batch_id: int, *, phone: str, code: str, message: str
    ) -> int:
        """HTTP 400 naming one phone: its rows rejected, the others back to planned.

        Nothing was created, so the batch becomes ``rejected`` and its key is never used
        again; the other rows are frozen into new batches (new keys) by the next
        ``ledger.freezing.freeze_batches``. Returns how many rows went back to planned.
        """
        with self.store.transaction() as conn:
            batch = self._outcome_batch(conn, lease, batch_id)
            text = clean_error(message)
            r = t.rows.c
            bad = conn.execute(
                sa.update(t.rows)
                .where(r.batch_id == batch_id, r.phone == phone)
                .values(state=REJECTED, reason_code=code, reason=text)
            ).rowcount
            if bad == 0:
                raise LedgerError(
                    f"batch {batch_id}: the server named phone {phone[:4]}… ({code}) but no row "
                    f"of the batch has it; nothing was changed. Record the whole batch as "
                    f"rejected or unknown instead."
                )
            back = conn.execute(
                sa.update(t.rows)
                .where(r.batch_id == batch_id, r.state != REJECTED)
                .values(state=PLANNED, batch_id=None)
            ).rowcount
            self._set_batch(
                conn,
                lease,
                batch,
                B_REJECTED,
                f"server rejected {bad} row(s) ({code}: {text}); {back} row(s) back to planned",
                error=text,
            )
        return int(back)


def mark_sent(
    conn: sa.Connection,
    row_ids: Sequence[int],
    job_ids: Sequence[str],
    now: datetime,
) -> None:
    """Rows ``sent`` at ``now``, each with its job id (same order as ``row_ids``).

    PostgreSQL: one UPDATE … FROM unnest(arrays) — every row version written once (each
    UPDATE of a row rewrites it and its index entries, ~25 µs a row there). SQLite: one
    UPDATE per row through the driver's executemany as plain tuples (SQLAlchemy's per-row
    parameter processing cost more than the UPDATEs themselves).
    """
    jobs = [str(j) for j in job_ids]
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql(
            "UPDATE rows SET state = %s, sent_at = %s, job_id = v.job_id "
            "FROM unnest(%s::text[], %s::integer[]) AS v(job_id, id) WHERE rows.id = v.id",
            (SENT, now, jobs, list(row_ids)),
        )
        return
    # The time as SQLAlchemy stores it on this dialect (text on SQLite), converted once.
    sent_at = t.rows.c.sent_at.type
    to_db = sent_at.dialect_impl(conn.dialect).bind_processor(conn.dialect)
    at = to_db(now) if to_db is not None else now
    cursor = conn.connection.cursor()
    try:
        cursor.executemany(
            driver_sql(conn, _SET_SENT),
            [(SENT, at, job, row_id) for row_id, job in zip(row_ids, jobs, strict=True)],
        )
    finally:
        cursor.close()
