"""Freezing: cut planned rows into batches, each with its key and body digest, for good.

Usage::

    ledger.freezing.freeze_batches(lease, batch_size=500, body_for=body_for)
    split_batches(rows, 500, final=True)     # the rule alone: no phone twice in a batch

A batch never holds one phone twice (the server would refuse the whole request). Rows are
read and frozen in id (file) order, a bounded number per transaction.

The uploader mostly freezes while it plans (``ledger.planning.plan_chunks(..., batch_size=,
body_for=)``, see :class:`ChunkFreezer`): new rows are inserted already ``batched``, so nothing
is read back or updated later. ``freeze_batches`` and :class:`Freezer` freeze whatever is still
planned (rows of an interrupted plan, rows of a batch the server refused because of another row).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from datetime import datetime
from itertools import starmap
from typing import Any, Protocol, TypeVar

import sqlalchemy as sa

from pipeline.ledger.sharing.holders import Lease, fence
from pipeline.ledger.store import schema as t
from pipeline.ledger.store.bulk import driver_sql
from pipeline.ledger.store.database import Store
from pipeline.ledger.store.states import BATCHED, PLANNED
from pipeline.ledger.transitions.batches import FreshRows, insert_batch, new_batches
from pipeline.ledger.transitions.bodies import BodyFor, PlannedRow
from pipeline.ledger.transitions.row_values import (
    BATCH,
    ID,
    PAYLOAD,
    PHONE,
    POLICY,
    ROW_NUMBER,
    STATE,
)
from pipeline.ledger.transitions.splits import batch_size_for

_FREEZE_CHUNK = 20_000  # planned rows read and frozen per transaction


# The state is a literal, not a bound parameter: only then can SQLite (and PostgreSQL's generic
# plans) prove that the query matches the partial index ix_rows_planned.
_PLANNED_ROWS = (
    "SELECT id, row_number, phone, payload, policy FROM rows "
    "WHERE campaign_id = ? AND state = 'planned' AND id > ? ORDER BY id LIMIT ?"
)
assert f"'{PLANNED}'" in _PLANNED_ROWS


class Phoned(Protocol):
    """What the batch rule needs of a row: its phone. Rows come in file order."""

    @property
    def phone(self) -> str: ...


R = TypeVar("R", bound=Phoned)


def split_batches(
    rows: Sequence[R], batch_size: int, *, final: bool
) -> tuple[list[list[R]], list[R]]:
    """Cut rows (in file order) into batches of ``batch_size`` with no phone twice in a batch.

    A row whose phone is already in the current batch waits for the next one. Without
    ``final`` an unfilled last batch is returned as leftover, to be topped up by more rows.
    The one rule: the freezer cuts planned rows with it, ``validate --emit-batches`` the
    accepted items (:class:`~pipeline.records.CallItem`), so the dry run shows these batches.
    """
    out: list[list[R]] = []
    # Fast path: while the next batch_size rows hold distinct phones (the rule, as the
    # transform drops exact repeats), they are the batch. The first slice with a repeat, and
    # everything after it, goes the careful way below.
    start, total = 0, len(rows)
    while total - start >= batch_size:
        head = list(rows[start : start + batch_size])
        if len({row.phone for row in head}) != batch_size:
            break
        out.append(head)
        start += batch_size
    if start == total:
        return out, []
    queue = deque(rows[start:])
    while queue:
        batch: list[R] = []
        phones: set[str] = set()
        waiting: list[R] = []
        after: list[int] = []  # how many rows of the batch came before each waiting one
        while queue and len(batch) < batch_size:
            row = queue.popleft()
            if row.phone in phones:
                waiting.append(row)
                after.append(len(batch))
            else:
                batch.append(row)
                phones.add(row.phone)
        if len(batch) < batch_size and not final:
            return out, _in_order(batch, waiting, after)
        out.append(batch)
        queue.extendleft(reversed(waiting))
    return out, []


def _in_order(batch: list[R], waiting: list[R], after: list[int]) -> list[R]:
    """The rows of an unfilled batch and those that waited, back in the order they came in."""
    rows: list[R] = []
    taken = 0
    for row, n in zip(waiting, after, strict=True):
        rows.extend(batch[taken:n])
        rows.append(row)
        taken = n
    rows.extend(batch[taken:])
    return rows


class Freezer:
    """Freezes the campaign's planned rows a step at a time, so the caller can interleave the
    steps with other work (the uploader freezes while a request is on the wire).

    Usage::

        freezer = ledger.freezing.freezer(lease, batch_size=2000, body_for=body_for)
        while freezer.step(max_rows=4000):      # one transaction per step
            ...                                 # send what is frozen so far

    Each step reads up to ``max_rows`` planned rows after the last one it read (id order) and
    freezes the full batches among them; rows that do not fill a batch yet are carried to the
    next step (they stay planned in the ledger, so a crash loses nothing). Rows put back to
    planned behind the cursor (a bad row's batch) are not seen: start a new freezer for those.
    """

    def __init__(
        self, store: Store, fresh: FreshRows, lease: Lease, *, batch_size: int, body_for: BodyFor
    ) -> None:
        if batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        self.store, self.fresh, self.lease = store, fresh, lease
        self.batch_size, self.body_for = batch_size, body_for
        self.created: list[int] = []
        self.done = False
        self._carry: list[PlannedRow] = []
        self._last_id = 0

    def step(self, *, max_rows: int = _FREEZE_CHUNK) -> bool:
        """Freeze the next rows in one transaction; False once every planned row is frozen."""
        if self.done:
            return False
        store, lease = self.store, self.lease
        # Relaxed commit: a frozen batch lost to a power cut was never sent (its intent
        # commit would have flushed it), so its rows are simply frozen again.
        with store.transaction(durable=False) as conn:
            fence(conn, lease, now=store.now)
            # Through the driver cursor: plain tuples, none of SQLAlchemy's per-row work.
            cursor = conn.connection.cursor()
            cursor.execute(
                driver_sql(conn, _PLANNED_ROWS),
                (lease.campaign_id, self._last_id, max_rows),
            )
            fetched = list(starmap(PlannedRow, cursor.fetchall()))
            cursor.close()
            final = len(fetched) < max_rows
            size = batch_size_for(conn, lease.campaign_id, self.batch_size)  # after a 413
            groups, self._carry = split_batches(self._carry + fetched, size, final=final)
            now = store.now()
            frozen: list[tuple[int, list[PlannedRow]]] = []
            for group in groups:
                batch_id, key, gen = insert_batch(
                    conn, campaign_id=lease.campaign_id, rows=group, body_for=self.body_for, now=now
                )
                store.event(
                    conn,
                    entity="batch",
                    entity_id=batch_id,
                    from_state=None,
                    to_state="planned",
                    reason=f"frozen: {len(group)} rows, key {key}, generation {gen}",
                    by=lease,
                    at=now,
                )
                self.created.append(batch_id)
                frozen.append((batch_id, group))
            if fetched:
                self._last_id = fetched[-1].id
        # After the commit only: a rolled-back batch id may be given to another batch later.
        self.fresh.keep(frozen)
        self.done = final
        return not final


class ChunkFreezer:
    """Freezes new rows into batches inside the transaction that plans them.

    Usage (by :meth:`~pipeline.ledger.transitions.planning.Planning.plan_chunks`, per input)::

        freezer = ChunkFreezer(store, fresh, lease, batch_size=2000, body_for=body_for)
        # in each chunk's transaction, the rows' values (ids reserved, not inserted yet):
        links = freezer.freeze_values(conn, values, now=now)   # frozen rows marked batched
        ... insert the rows, then the batch_rows ``links`` ...
        freezer.committed()            # after the commit (rolled_back() after a failure)

    Rows that do not fill a batch yet are carried to the next chunk; they are inserted
    ``planned`` and stay so in the ledger until the transaction that freezes them (so a crash
    loses nothing: the next run's freezer finds them). ``final`` freezes the carry too.
    """

    def __init__(
        self, store: Store, fresh: FreshRows, lease: Lease, *, batch_size: int, body_for: BodyFor
    ) -> None:
        if batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        self.store, self.fresh, self.lease = store, fresh, lease
        self.batch_size, self.body_for = batch_size, body_for
        self.created: list[int] = []
        self._carry: list[PlannedRow] = []
        self._pending: tuple[list[PlannedRow], list[tuple[int, list[PlannedRow]]]] | None = None

    def freeze(
        self, conn: sa.Connection, rows: list[PlannedRow], *, now: datetime, final: bool
    ) -> tuple[dict[int, int], list[tuple[int, int, int]]]:
        """Cut the carried rows and ``rows`` (new, in id order) into batches and insert the
        batches (with their events); carried rows that were frozen are updated here.

        Returns (row id → batch id of every new row frozen now, the ``batch_rows`` tuples
        to insert once the new rows are in). Nothing of this object changes until
        :meth:`committed`, so a rolled-back transaction leaves it as it was.
        """
        size = batch_size_for(conn, self.lease.campaign_id, self.batch_size)  # after a 413
        groups, carry = split_batches(self._carry + rows, size, final=final)
        carried = {row.id for row in self._carry}
        batch_of: dict[int, int] = {}
        links: list[tuple[int, int, int]] = []
        frozen: list[tuple[int, list[PlannedRow]]] = []
        lease = self.lease
        made = new_batches(
            conn, campaign_id=lease.campaign_id, groups=groups, body_for=self.body_for, now=now
        )
        self.store.events(
            conn,
            [
                (
                    "batch",
                    batch_id,
                    None,
                    "planned",
                    f"frozen: {len(group)} rows, key {key}, generation {gen}",
                )
                for (batch_id, key, gen), group in zip(made, groups, strict=True)
            ],
            by=lease,
            at=now,
        )
        for (batch_id, _key, _gen), group in zip(made, groups, strict=True):
            old = [row.id for row in group if row.id in carried]
            if old:
                conn.execute(
                    sa.update(t.rows)
                    .where(t.rows.c.id.in_(old))
                    .values(state=BATCHED, batch_id=batch_id)
                )
            links.extend((batch_id, n, row.id) for n, row in enumerate(group))
            batch_of.update((row.id, batch_id) for row in group)
            frozen.append((batch_id, group))
        self._pending = (carry, frozen)
        return batch_of, links

    def freeze_values(
        self, conn: sa.Connection, values: list[list[Any]], *, now: datetime
    ) -> list[tuple[int, int, int]]:
        """:meth:`freeze` for a planned chunk's values (ids reserved, not inserted yet): the
        accepted rows frozen are marked batched in ``values``; returns the ``batch_rows`` to
        insert after the rows."""
        accepted = [
            PlannedRow(v[ID], v[ROW_NUMBER], v[PHONE], v[PAYLOAD], v[POLICY])
            for v in values
            if v[STATE] == PLANNED
        ]
        batch_of, batch_rows = self.freeze(conn, accepted, now=now, final=False)
        if batch_of:
            for v in values:
                batch_id = batch_of.get(v[ID])
                if batch_id is not None:
                    v[STATE], v[BATCH] = BATCHED, batch_id
        return batch_rows

    def committed(self) -> None:
        """The transaction of the last :meth:`freeze` committed: carry on from it."""
        if self._pending is None:
            return
        self._carry, frozen = self._pending
        self._pending = None
        self.created += [batch_id for batch_id, _group in frozen]
        self.fresh.keep(frozen)

    def rolled_back(self) -> None:
        """The transaction of the last :meth:`freeze` failed: forget what it did."""
        self._pending = None

    @property
    def carrying(self) -> bool:
        """Whether rows wait (planned) for the next chunk or the final freeze."""
        return bool(self._carry)


class Freezing:
    """``ledger.freezing``: the campaign's planned rows frozen into batches."""

    def __init__(self, store: Store, fresh: FreshRows) -> None:
        self.store, self.fresh = store, fresh

    def freezer(self, lease: Lease, *, batch_size: int, body_for: BodyFor) -> Freezer:
        """A :class:`Freezer` for stepwise freezing (``freeze_batches`` runs one to the end)."""
        return Freezer(self.store, self.fresh, lease, batch_size=batch_size, body_for=body_for)

    def freeze_batches(self, lease: Lease, *, batch_size: int, body_for: BodyFor) -> list[int]:
        """Freeze every planned row of the campaign into batches; returns the new batch ids.

        Batches already frozen are never touched, so a changed ``batch_size`` only shapes
        batches of rows that were not frozen yet.
        """
        freezer = self.freezer(lease, batch_size=batch_size, body_for=body_for)
        while freezer.step():
            pass
        return freezer.created

    def planned_rows(self, campaign_id: int) -> int:
        """Rows of the campaign waiting to be frozen into a batch (only the lease holder can)."""
        r = t.rows.c
        query = sa.select(sa.func.count()).where(r.campaign_id == campaign_id, r.state == PLANNED)
        return self.store.count(query, "the campaign's planned rows")
