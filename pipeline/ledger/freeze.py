"""Freezing: cut planned rows into batches, each with its key and body digest, for good.

Usage::

    ledger.freeze_batches(lease, batch_size=500, body_for=body_for)

A batch never holds one phone twice (the server would refuse the whole request). Rows are
read and frozen in id (file) order, a bounded number per transaction.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from itertools import starmap

from pipeline.ledger.base import Lease, LedgerBase, driver_sql
from pipeline.ledger.batches import BodyFor, PlannedRow, insert_batch
from pipeline.ledger.states import PLANNED

_FREEZE_CHUNK = 20_000  # planned rows read and frozen per transaction
# Batches whose rows a Freezer keeps in memory for claim_sendable. The uploader claims each
# batch soon after freezing it, so a handful suffices; the bound keeps a full freeze of a big
# file (several senders) from holding every row in memory.
_KEEP_BATCHES = 16
# The state is a literal, not a bound parameter: only then can SQLite (and PostgreSQL's generic
# plans) prove that the query matches the partial index ix_rows_planned.
_PLANNED_ROWS = (
    "SELECT id, row_number, phone, payload, policy FROM rows "
    "WHERE campaign_id = ? AND state = 'planned' AND id > ? ORDER BY id LIMIT ?"
)
assert f"'{PLANNED}'" in _PLANNED_ROWS


def split_batches(
    rows: Sequence[PlannedRow], batch_size: int, *, final: bool
) -> tuple[list[list[PlannedRow]], list[PlannedRow]]:
    """Cut rows (in id order) into batches of ``batch_size`` with no phone twice in a batch.

    A row whose phone is already in the current batch waits for the next one. Without
    ``final`` an unfilled last batch is returned as leftover, to be topped up by more rows.
    """
    out: list[list[PlannedRow]] = []
    queue = deque(rows)
    while queue:
        batch: list[PlannedRow] = []
        phones: set[str] = set()
        waiting: list[PlannedRow] = []
        while queue and len(batch) < batch_size:
            row = queue.popleft()
            if row.phone in phones:
                waiting.append(row)
            else:
                batch.append(row)
                phones.add(row.phone)
        if len(batch) < batch_size and not final:
            return out, sorted(batch + waiting, key=lambda r: r.id)
        out.append(batch)
        queue.extendleft(reversed(waiting))
    return out, []


class Freezer:
    """Freezes the campaign's planned rows a step at a time, so the caller can interleave the
    steps with other work (the uploader freezes while a request is on the wire).

    Usage::

        freezer = ledger.freezer(lease, batch_size=2000, body_for=body_for)
        while freezer.step(max_rows=4000):      # one transaction per step
            ...                                 # send what is frozen so far

    Each step reads up to ``max_rows`` planned rows after the last one it read (id order) and
    freezes the full batches among them; rows that do not fill a batch yet are carried to the
    next step (they stay planned in the ledger, so a crash loses nothing). Rows put back to
    planned behind the cursor (a bad row's batch) are not seen: start a new freezer for those.
    """

    def __init__(self, ledger: FreezeMixin, lease: Lease, *, batch_size: int, body_for: BodyFor):
        if batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        self.ledger, self.lease = ledger, lease
        self.batch_size, self.body_for = batch_size, body_for
        self.created: list[int] = []
        self.done = False
        self._carry: list[PlannedRow] = []
        self._last_id = 0

    def step(self, *, max_rows: int = _FREEZE_CHUNK) -> bool:
        """Freeze the next rows in one transaction; False once every planned row is frozen."""
        if self.done:
            return False
        ledger, lease = self.ledger, self.lease
        # Relaxed commit: a frozen batch lost to a power cut was never sent (its intent
        # commit would have flushed it), so its rows are simply frozen again.
        with ledger.transaction(durable=False) as conn:
            ledger.fence(conn, lease)
            # Through the driver cursor: plain tuples, none of SQLAlchemy's per-row work.
            cursor = conn.connection.cursor()
            cursor.execute(
                driver_sql(conn, _PLANNED_ROWS),
                (lease.campaign_id, self._last_id, max_rows),
            )
            fetched = list(starmap(PlannedRow, cursor.fetchall()))
            cursor.close()
            final = len(fetched) < max_rows
            groups, self._carry = split_batches(self._carry + fetched, self.batch_size, final=final)
            now = ledger.now()
            frozen: list[tuple[int, list[PlannedRow]]] = []
            for group in groups:
                batch_id, key = insert_batch(
                    conn, campaign_id=lease.campaign_id, rows=group, body_for=self.body_for, now=now
                )
                ledger.event(
                    conn,
                    entity="batch",
                    entity_id=batch_id,
                    from_state=None,
                    to_state="planned",
                    reason=f"frozen: {len(group)} rows, key {key}, generation 1",
                    lease=lease,
                    at=now,
                )
                self.created.append(batch_id)
                frozen.append((batch_id, group))
            if fetched:
                self._last_id = fetched[-1].id
        # After the commit only: a rolled-back batch id may be given to another batch later.
        fresh = ledger.fresh_rows
        for batch_id, group in frozen:
            if len(fresh) < _KEEP_BATCHES:
                fresh[batch_id] = tuple(group)
        self.done = final
        return not final


class FreezeMixin(LedgerBase):
    """Freezing operations of the :class:`~pipeline.ledger.Ledger`."""

    def freezer(self, lease: Lease, *, batch_size: int, body_for: BodyFor) -> Freezer:
        """A :class:`Freezer` for stepwise freezing (``freeze_batches`` runs one to the end)."""
        return Freezer(self, lease, batch_size=batch_size, body_for=body_for)

    def freeze_batches(self, lease: Lease, *, batch_size: int, body_for: BodyFor) -> list[int]:
        """Freeze every planned row of the campaign into batches; returns the new batch ids.

        Batches already frozen are never touched, so a changed ``batch_size`` only shapes
        batches of rows that were not frozen yet.
        """
        freezer = self.freezer(lease, batch_size=batch_size, body_for=body_for)
        while freezer.step():
            pass
        return freezer.created
