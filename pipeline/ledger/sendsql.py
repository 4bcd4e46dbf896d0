"""The statements and checks behind the send-side operations of :mod:`pipeline.ledger.send`.

Usage (inside a transaction of the ledger)::

    found = locked_batches(conn, [7, 8])                 # batches rows, locked until commit
    check_sendable(found.get(7), 7, holder, cutoff)      # or LedgerError / KeyExpiredError
    mark_sent(conn, row_ids, job_ids, now)               # each row written once

Hot statements go through the driver with plain values (``executemany``): SQLAlchemy's per-row
parameter processing would cost more than the statements themselves.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from pipeline.errors import KeyExpiredError, LedgerError
from pipeline.ledger.sharing.claims import check_claim
from pipeline.ledger.sharing.holders import Holder
from pipeline.ledger.store import schema as t
from pipeline.ledger.store.database import driver_sql
from pipeline.ledger.store.states import B_SENDABLE, SENT

# Each row written once: its state, send time and job id together (a row's UPDATE rewrites the
# row and moves it when it grows, which is most of the cost of recording an outcome).
_SET_SENT = "UPDATE rows SET state = ?, sent_at = ?, job_id = ? WHERE id = ?"
MEMBERS = (
    "SELECT batch_id, row_id FROM batch_rows WHERE batch_id IN ({}) ORDER BY batch_id, position"
)
MARK = (
    "UPDATE batches SET state = ?, attempts = ?, first_sent_at = ?, last_sent_at = ? WHERE id = ?"
)
CONFIRM = "UPDATE batches SET state = ?, finished_at = ? WHERE id = ?"


def members(conn: sa.Connection, batch_ids: Sequence[int]) -> dict[int, list[int]]:
    """Each batch's row ids in body order (through the driver: plain ints, no result objects)."""
    marks = ", ".join("?" * len(batch_ids))
    cursor = conn.connection.cursor()
    try:
        cursor.execute(driver_sql(conn, MEMBERS.format(marks)), list(batch_ids))
        out: dict[int, list[int]] = {}
        for batch_id, row_id in cursor.fetchall():
            out.setdefault(batch_id, []).append(row_id)
        return out
    finally:
        cursor.close()


def check_sendable(batch: Any, batch_id: int, holder: Holder, cutoff: datetime) -> Any:
    """``batch``, or refuse an intent for it unless the holder may send it now under its
    own key."""
    if batch is None or batch.campaign_id != holder.campaign_id:
        raise LedgerError(f"batch {batch_id} is not a batch of campaign {holder.campaign_id}.")
    if batch.first_sent_at is not None and batch.first_sent_at <= cutoff:
        raise KeyExpiredError(
            f"batch {batch_id}: key {batch.request_key} was first sent at "
            f"{batch.first_sent_at.isoformat()} and may have expired on the server; "
            f"it is never sent again. Reconcile the batch instead."
        )
    check_claim(batch, holder)
    if batch.state not in B_SENDABLE:
        raise LedgerError(
            f"batch {batch_id} is {batch.state}, so it cannot be sent again; claim "
            f"sendable batches with claim_sendable() (a bug in the caller)."
        )
    return batch


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
