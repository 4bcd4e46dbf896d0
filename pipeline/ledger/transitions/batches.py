"""Frozen batches in the tables: inserting one with its key, and reading its rows back.

Usage (inside a transaction of the ledger)::

    batch_id, key, generation = insert_batch(conn, campaign_id=1, rows=rows,
                                             body_for=canonical_body, now=now)
    rows = load_rows(conn, batch_id)                    # body order
    work = load_work(conn, batch_row)                   # a BatchWork to send
    fresh.keep([(batch_id, rows)]); fresh.take(batch_id)    # rows this process just froze

A batch is frozen once: its rows (in body order), request key, generation and body digest are
written in one transaction and never change (see :mod:`.bodies` for how the body is rebuilt).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from itertools import starmap

import sqlalchemy as sa

from pipeline.ledger.store import schema as t
from pipeline.ledger.store.bulk import bulk_insert, db_value, driver_sql, reserve_ids
from pipeline.ledger.store.database import inserted_id
from pipeline.ledger.store.keys import body_digest, request_key
from pipeline.ledger.store.states import B_PLANNED, BATCHED
from pipeline.ledger.transitions.bodies import BatchWork, BodyFor, PlannedRow, rows_body
from pipeline.ledger.transitions.campaigns import fingerprint_of

# Rows of batches frozen by this process that it keeps in memory for claim_sendable (which then
# reads nothing back). The uploader claims batches soon after freezing them: one planned chunk's
# worth (~100,000 rows) at most. The bound keeps a full freeze of a big file (several senders,
# or a plan that runs ahead) from holding every row in memory.
_KEEP_ROWS = 250_000


class FreshRows:
    """Rows of batches this process froze and has not claimed yet (bounded): claiming them
    needs no read back. Only committed batches are put here."""

    def __init__(self) -> None:
        self.rows: dict[int, tuple[PlannedRow, ...]] = {}

    def keep(self, frozen: Sequence[tuple[int, Sequence[PlannedRow]]]) -> None:
        """Remember the rows of just-committed batches while fewer than _KEEP_ROWS are held."""
        held = sum(map(len, self.rows.values()))
        for batch_id, group in frozen:
            if held + len(group) > _KEEP_ROWS:
                return
            self.rows[batch_id] = tuple(group)
            held += len(group)

    def take(self, batch_id: int) -> tuple[PlannedRow, ...] | None:
        """The rows of ``batch_id`` if they are held (forgotten now), else None."""
        return self.rows.pop(batch_id, None)


# Keys looked up per statement (well below SQLite's limit of bound parameters).
_KEYS_PER_QUERY = 500


def derive_keys(
    conn: sa.Connection, campaign_id: int, wanted: Sequence[tuple[int, str]]
) -> list[tuple[int, str]]:
    """(generation, request key) for batches given as (generation, body sha256).

    The key is :func:`~pipeline.ledger.store.keys.request_key` of the campaign, generation and
    digest. A key this ledger already holds — or one an earlier batch of ``wanted`` takes —
    belongs to an identical batch made before: this one is an intended repeat (or a repeat
    inside one file with ``dedupe.key: none``) and takes the next free generation, so it gets
    a key of its own.
    """
    fingerprint = fingerprint_of(conn, campaign_id)
    chosen = [(gen, request_key(fingerprint, gen, digest)) for gen, digest in wanted]
    todo = list(range(len(chosen)))
    taken: set[str] = set()
    while todo:
        candidates = [chosen[i][1] for i in todo]
        used: set[str] = set()
        for start in range(0, len(candidates), _KEYS_PER_QUERY):
            part = candidates[start : start + _KEYS_PER_QUERY]
            used.update(
                conn.execute(
                    sa.select(t.batches.c.request_key).where(t.batches.c.request_key.in_(part))
                ).scalars()
            )
        again: list[int] = []
        for i in todo:
            gen, key = chosen[i]
            if key in used or key in taken:
                gen += 1
                chosen[i] = (gen, request_key(fingerprint, gen, wanted[i][1]))
                again.append(i)
            else:
                taken.add(key)
        todo = again
    return chosen


def new_batch(
    conn: sa.Connection,
    *,
    campaign_id: int,
    rows: Sequence[PlannedRow],
    body_for: BodyFor,
    now: datetime,
    generation: int = 1,
    parent_id: int | None = None,
) -> tuple[int, str, int]:
    """Insert the ``batches`` row of ``rows`` (body order): key, digest, size; nothing else.

    The caller links the rows (``batch_rows``) and marks them batched in the same transaction
    (:func:`insert_batch` does both; planning inserts its new rows already batched). Returns
    (batch id, request key, generation): the generation is ``generation`` unless an identical
    batch already took its key (see :func:`derive_keys`).
    """
    digest = body_digest(rows_body(rows, body_for))
    [(generation, key)] = derive_keys(conn, campaign_id, [(generation, digest)])
    batch_id: int = inserted_id(
        conn.execute(
            sa.insert(t.batches).values(
                campaign_id=campaign_id,
                request_key=key,
                generation=generation,
                parent_id=parent_id,
                body_sha256=digest,
                size=len(rows),
                state=B_PLANNED,
                created_at=now,
            )
        )
    )
    return batch_id, key, generation


_BATCH_COLS = (
    "id",
    "campaign_id",
    "request_key",
    "generation",
    "body_sha256",
    "size",
    "state",
    "created_at",
)


def new_batches(
    conn: sa.Connection,
    *,
    campaign_id: int,
    groups: Sequence[Sequence[PlannedRow]],
    body_for: BodyFor,
    now: datetime,
) -> list[tuple[int, str, int]]:
    """:func:`new_batch` (generation 1, or the next free one) for several groups in one
    statement; returns their (batch id, request key, generation) in order."""
    if not groups:
        return []
    ids = reserve_ids(conn, t.batches, len(groups))
    digests = [body_digest(rows_body(group, body_for)) for group in groups]
    keys = derive_keys(conn, campaign_id, [(1, digest) for digest in digests])
    created = db_value(conn, t.batches.c.created_at, now)
    values = [
        (batch_id, campaign_id, key, gen, digest, len(group), B_PLANNED, created)
        for batch_id, (gen, key), digest, group in zip(ids, keys, digests, groups, strict=True)
    ]
    bulk_insert(conn, t.batches, _BATCH_COLS, values)
    return [(batch_id, key, gen) for batch_id, (gen, key) in zip(ids, keys, strict=True)]


def insert_batch(
    conn: sa.Connection,
    *,
    campaign_id: int,
    rows: Sequence[PlannedRow],
    body_for: BodyFor,
    now: datetime,
    generation: int = 1,
    parent_id: int | None = None,
) -> tuple[int, str, int]:
    """Freeze ``rows`` (body order) into a new batch; returns (batch id, key, generation)."""
    batch_id, key, generation = new_batch(
        conn,
        campaign_id=campaign_id,
        rows=rows,
        body_for=body_for,
        now=now,
        generation=generation,
        parent_id=parent_id,
    )
    bulk_insert(
        conn,
        t.batch_rows,
        ("batch_id", "position", "row_id"),
        [(batch_id, i, r.id) for i, r in enumerate(rows)],
    )
    members = sa.select(t.batch_rows.c.row_id).where(t.batch_rows.c.batch_id == batch_id)
    conn.execute(
        sa.update(t.rows).where(t.rows.c.id.in_(members)).values(state=BATCHED, batch_id=batch_id)
    )
    return batch_id, key, generation


_BATCH_ROWS = (
    "SELECT r.id, r.row_number, r.phone, r.payload, r.policy FROM batch_rows b "
    "JOIN rows r ON r.id = b.row_id WHERE b.batch_id = ? ORDER BY b.position"
)


def load_rows(conn: sa.Connection, batch_id: int) -> list[PlannedRow]:
    """The rows of a batch in body order."""
    # Through the driver cursor (plain text columns, no type processing): SQLAlchemy's
    # per-row result work was most of the cost of claiming a batch of 2,000 rows.
    cursor = conn.connection.cursor()
    try:
        cursor.execute(driver_sql(conn, _BATCH_ROWS), (batch_id,))
        return list(starmap(PlannedRow, cursor.fetchall()))
    finally:
        cursor.close()


_MEMBERS = (
    "SELECT batch_id, row_id FROM batch_rows WHERE batch_id IN ({}) ORDER BY batch_id, position"
)


def members(conn: sa.Connection, batch_ids: Sequence[int]) -> dict[int, list[int]]:
    """Each batch's row ids in body order (through the driver: plain ints, no result objects)."""
    marks = ", ".join("?" * len(batch_ids))
    cursor = conn.connection.cursor()
    try:
        cursor.execute(driver_sql(conn, _MEMBERS.format(marks)), list(batch_ids))
        out: dict[int, list[int]] = {}
        for batch_id, row_id in cursor.fetchall():
            out.setdefault(batch_id, []).append(row_id)
        return out
    finally:
        cursor.close()


def load_work(
    conn: sa.Connection,
    batch: sa.Row[tuple[object, ...]],
    *,
    known: tuple[PlannedRow, ...] | None = None,
) -> BatchWork:
    """A :class:`BatchWork` for a selected ``batches`` row (``known``: its rows, when this
    process froze them; the body digest is still checked before every send)."""
    rows = known if known is not None else load_rows(conn, batch.id)
    return BatchWork(
        id=batch.id,
        request_key=batch.request_key,
        generation=batch.generation,
        body_sha256=batch.body_sha256,
        attempts=batch.attempts,
        first_sent_at=batch.first_sent_at,
        rows=tuple(rows),
    )
