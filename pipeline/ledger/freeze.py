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


class FreezeMixin(LedgerBase):
    """Freezing operations of the :class:`~pipeline.ledger.Ledger`."""

    def freeze_batches(self, lease: Lease, *, batch_size: int, body_for: BodyFor) -> list[int]:
        """Freeze every planned row of the campaign into batches; returns the new batch ids.

        Batches already frozen are never touched, so a changed ``batch_size`` only shapes
        batches of rows that were not frozen yet.
        """
        if batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        created: list[int] = []
        carry: list[PlannedRow] = []
        last_id = 0
        while True:
            # Relaxed commit: a frozen batch lost to a power cut was never sent (its intent
            # commit would have flushed it), so its rows are simply frozen again.
            with self.transaction(durable=False) as conn:
                self.fence(conn, lease)
                # Through the driver cursor: plain tuples, none of SQLAlchemy's per-row work.
                cursor = conn.connection.cursor()
                cursor.execute(
                    driver_sql(conn, _PLANNED_ROWS),
                    (lease.campaign_id, last_id, _FREEZE_CHUNK),
                )
                fetched = list(starmap(PlannedRow, cursor.fetchall()))
                cursor.close()
                final = len(fetched) < _FREEZE_CHUNK
                groups, carry = split_batches(carry + fetched, batch_size, final=final)
                now = self.now()
                for group in groups:
                    batch_id, key = insert_batch(
                        conn, campaign_id=lease.campaign_id, rows=group, body_for=body_for, now=now
                    )
                    self.event(
                        conn,
                        entity="batch",
                        entity_id=batch_id,
                        from_state=None,
                        to_state="planned",
                        reason=f"frozen: {len(group)} rows, key {key}, generation 1",
                        lease=lease,
                        at=now,
                    )
                    created.append(batch_id)
                if fetched:
                    last_id = fetched[-1].id
            if final:
                return created
