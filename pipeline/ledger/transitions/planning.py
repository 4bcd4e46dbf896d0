"""Planning: record every input row of a file in exactly one state.

Usage::

    state = ledger.inputs.begin(lease, name="export.csv", sha256=digest)
    for chunk in records_in_chunks:              # CallItem | Rejection | Duplicate per row
        ledger.planning.plan_chunk(lease, state.id, chunk)
    ledger.inputs.complete(lease, state.id, rows_total=n)

    # the uploader: rows frozen into batches in the same transactions (no freeze pass after)
    ledger.planning.plan_chunks(lease, state.id, chunks, batch_size=2000, body_for=body_for)

Each chunk is one transaction (inserted with ``executemany``, row ids in file order so every
index but the phone one grows at its right edge). Rows at or below the input's
``planned_through`` are skipped, which makes re-feeding a half-planned file safe.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from functools import partial
from typing import Any

import sqlalchemy as sa

from pipeline.collector import gc_paused
from pipeline.errors import LedgerError
from pipeline.ledger.sharing.holders import Lease, fence
from pipeline.ledger.store import schema as t
from pipeline.ledger.store.bulk import bulk_insert, reserve_ids
from pipeline.ledger.store.database import Store
from pipeline.ledger.store.states import PLANNED, REJECTED
from pipeline.ledger.transitions.batches import FreshRows
from pipeline.ledger.transitions.bodies import BodyFor
from pipeline.ledger.transitions.campaigns import fingerprint_of
from pipeline.ledger.transitions.contact_rules import (
    ContactRules,
    lock_for_caps,
    mark_capped,
    mark_suppressed,
)
from pipeline.ledger.transitions.freezing import ChunkFreezer
from pipeline.ledger.transitions.row_values import (
    ID,
    ROW_COLS,
    ROW_NUMBER,
    STATE,
    PlanRecord,
    PreparedChunk,
    mark_repeats,
    prepare_chunk,
)

# A repeat of a row sent less than a week ago is a duplicate (docs/compliance.md).
DEFAULT_REPEAT_WINDOW_S = 7 * 86_400.0
_LINK_COLS = ("batch_id", "position", "row_id")

__all__ = ["DEFAULT_REPEAT_WINDOW_S", "PlanCounts", "PlanRecord", "Planning"]


@dataclass(slots=True)
class PlanCounts:
    """What one :meth:`Planning.plan_chunk` recorded."""

    planned: int = 0
    rejected: int = 0
    duplicate: int = 0
    repeat_of_earlier_run: int = 0
    suppressed: int = 0  # of the rejected: phone on a do-not-call list
    contact_cap: int = 0  # of the rejected: phone over upload.contact_caps
    skipped_already_planned: int = 0
    batches: list[int] = field(default_factory=list)  # frozen while planning (plan_chunks)

    def add(self, other: PlanCounts) -> None:
        """Add ``other``'s numbers to these."""
        self.planned += other.planned
        self.rejected += other.rejected
        self.duplicate += other.duplicate
        self.repeat_of_earlier_run += other.repeat_of_earlier_run
        self.suppressed += other.suppressed
        self.contact_cap += other.contact_cap
        self.skipped_already_planned += other.skipped_already_planned
        self.batches += other.batches


class Planning:
    """``ledger.planning``: the rows of an input file recorded (and frozen) chunk by chunk."""

    def __init__(self, store: Store, fresh: FreshRows) -> None:
        self.store, self.fresh = store, fresh

    def chunk_preparer(
        self, lease: Lease, input_id: int
    ) -> Callable[[Sequence[PlanRecord]], PreparedChunk]:
        """A function that turns a chunk of the input's records into what ``plan_chunks``
        inserts, without the ledger: so it can run in another process (forked) while this
        one plans the chunk before (see pipeline.load.upload.input_planning)."""
        with self.store.transaction() as conn:
            fp = fingerprint_of(conn, lease.campaign_id)
        return partial(
            prepare_chunk, fingerprint=fp, base=(input_id, lease.run_id, lease.campaign_id)
        )

    def plan_chunk(
        self,
        lease: Lease,
        input_id: int,
        records: Sequence[PlanRecord],
        *,
        allow_repeats: bool = False,
        repeat_window_s: float = DEFAULT_REPEAT_WINDOW_S,
        rules: ContactRules | None = None,
    ) -> PlanCounts:
        """Record one chunk of an input's rows (each row exactly once) in one transaction.

        An accepted row whose row key matches a row of another input that is still on its
        way (planned/batched) or was sent within ``repeat_window_s`` becomes ``duplicate`` of
        it, unless ``allow_repeats``. Rows already in the ledger are skipped.
        """
        return self.plan_chunks(
            lease,
            input_id,
            [records],
            allow_repeats=allow_repeats,
            repeat_window_s=repeat_window_s,
            rules=rules,
        )

    def plan_chunks(
        self,
        lease: Lease,
        input_id: int,
        chunks: Iterable[Sequence[PlanRecord] | PreparedChunk],
        *,
        allow_repeats: bool = False,
        repeat_window_s: float = DEFAULT_REPEAT_WINDOW_S,
        batch_size: int | None = None,
        body_for: BodyFor | None = None,
        after_chunk: Callable[[], None] | None = None,
        rules: ContactRules | None = None,
    ) -> PlanCounts:
        """:meth:`plan_chunk` for each chunk (in row order), one transaction per chunk.

        With ``batch_size`` and ``body_for`` the accepted rows are also frozen into batches in
        the same transactions (what ``freeze_batches`` would make of them, without reading
        them back): each chunk's full batches at once, the rest with the next chunk, the last
        rows in one more transaction at the end. ``counts.batches`` lists the new batches.
        ``after_chunk`` is called after each of these transactions committed (the uploader
        sends the new batches while the next chunk is read and planned).
        ``rules``: the do-not-call lists and contact caps each new row is checked against in
        its planning transaction (:mod:`~pipeline.ledger.transitions.contact_rules`).
        """
        total = PlanCounts()
        with self.store.transaction() as conn:
            fp = fingerprint_of(conn, lease.campaign_id)
        base = (input_id, lease.run_id, lease.campaign_id)
        freezer = None
        if batch_size is not None and body_for is not None:
            freezer = ChunkFreezer(
                self.store, self.fresh, lease, batch_size=batch_size, body_for=body_for
            )
        for chunk in chunks:
            prepared = chunk if isinstance(chunk, PreparedChunk) else prepare_chunk(chunk, fp, base)
            if prepared.values and tuple(prepared.values[0][1:5:2]) != base[:2]:
                raise LedgerError(
                    f"a chunk prepared for another input or run was passed to input "
                    f"{input_id}; nothing of it was planned (a bug in the caller)."
                )
            with gc_paused():
                got = self._write_chunk(
                    lease,
                    input_id,
                    prepared.values,
                    dup_links=prepared.dup_links,
                    allow_repeats=allow_repeats,
                    window_s=repeat_window_s,
                    freezer=freezer,
                    rules=rules,
                )
            total.add(got)
            if after_chunk is not None:
                after_chunk()
        if freezer is not None:
            if freezer.carrying:
                with self._freezing(freezer) as conn:
                    fence(conn, lease, now=self.store.now)
                    _, batch_rows = freezer.freeze(conn, [], now=self.store.now(), final=True)
                    bulk_insert(conn, t.batch_rows, _LINK_COLS, batch_rows)
                if after_chunk is not None:
                    after_chunk()
            total.batches = freezer.created
        return total

    @contextmanager
    def _freezing(self, freezer: ChunkFreezer | None) -> Iterator[sa.Connection]:
        """A relaxed transaction that tells ``freezer`` whether it committed."""
        # Not flushed at commit: a power loss can only take back planning (and the input's
        # planned_through with it) and frozen batches nobody sent yet (an intent commit would
        # have flushed them), which the next run redoes; see Store.transaction.
        # Foreign keys unchecked: every id these transactions write is one they just read
        # (input, run, campaign, earlier rows) or inserted (rows, batches); see transaction().
        try:
            with self.store.transaction(durable=False, checked=False) as conn:
                yield conn
        except BaseException:
            if freezer is not None:
                freezer.rolled_back()
            raise
        if freezer is not None:
            freezer.committed()

    def _write_chunk(
        self,
        lease: Lease,
        input_id: int,
        values: list[list[Any]],
        *,
        dup_links: dict[int, int],
        allow_repeats: bool,
        window_s: float,
        freezer: ChunkFreezer | None,
        rules: ContactRules | None,
    ) -> PlanCounts:
        counts = PlanCounts()
        with self._freezing(freezer) as conn:
            lock_for_caps(conn, rules)  # first: before this transaction locks anything else
            fence(conn, lease, now=self.store.now)
            done = conn.execute(
                sa.select(t.inputs.c.planned_through).where(
                    t.inputs.c.id == input_id, t.inputs.c.campaign_id == lease.campaign_id
                )
            ).scalar()
            if done is None:
                raise LedgerError(
                    f"input {input_id} is not an input of campaign {lease.campaign_id}."
                )
            if values and values[0][ROW_NUMBER] <= done:  # resuming: skip what is in already
                counts.skipped_already_planned = len(values)
                values = [v for v in values if v[ROW_NUMBER] > done]
                counts.skipped_already_planned -= len(values)
            if not values:
                return counts
            if rules is not None:  # before any key is looked up: a listed phone has none
                counts.suppressed = mark_suppressed(conn, values, rules)
            if not allow_repeats:
                since = self.store.now() - timedelta(seconds=window_s)
                counts.repeat_of_earlier_run += mark_repeats(
                    conn, values, input_id=input_id, campaign_id=lease.campaign_id, since=since
                )
            if rules is not None:  # after the repeats: a duplicate is no new call job
                counts.contact_cap = mark_capped(conn, values, rules, now=self.store.now())
            for value, row_id in zip(values, reserve_ids(conn, t.rows, len(values)), strict=True):
                value[ID] = row_id
            for v in values:
                state = v[STATE]
                if state == PLANNED:
                    counts.planned += 1
                elif state == REJECTED:
                    counts.rejected += 1
                else:
                    counts.duplicate += 1
            batch_rows = (
                freezer.freeze_values(conn, values, now=self.store.now()) if freezer else []
            )
            bulk_insert(conn, t.rows, ROW_COLS, values)
            bulk_insert(conn, t.batch_rows, _LINK_COLS, batch_rows)
            self._link_duplicates(conn, input_id, {k: v for k, v in dup_links.items() if k > done})
            first, last = values[0][ROW_NUMBER], values[-1][ROW_NUMBER]
            conn.execute(
                sa.update(t.inputs).where(t.inputs.c.id == input_id).values(planned_through=last)
            )
            self.store.event(
                conn,
                entity="input",
                entity_id=input_id,
                from_state="planning",
                to_state="planning",
                reason=(
                    f"rows {first}..{last}: {counts.planned} planned, {counts.rejected} "
                    f"rejected, {counts.duplicate} duplicate ({counts.repeat_of_earlier_run} "
                    f"repeat an earlier input)"
                ),
                by=lease,
            )
        return counts

    @staticmethod
    def _link_duplicates(conn: sa.Connection, input_id: int, links: dict[int, int]) -> None:
        """Point in-file duplicates (row → original row number) at the original's ledger id."""
        if not links:
            return
        r = t.rows.c
        originals = set(links.values())
        ids = dict(
            conn.execute(
                sa.select(r.row_number, r.id).where(
                    r.input_id == input_id, r.row_number.in_(originals)
                )
            ).all()
        )
        missing = sorted(originals - set(ids))
        if missing:
            raise LedgerError(
                f"input {input_id}: rows {missing[:10]} are named as originals of duplicates "
                f"but are not in the ledger; the transform must emit the original first."
            )
        conn.execute(
            sa.update(t.rows)
            .where(r.input_id == sa.bindparam("b_input"), r.row_number == sa.bindparam("b_row"))
            .values(duplicate_of=sa.bindparam("b_of")),
            [{"b_input": input_id, "b_row": row, "b_of": ids[of]} for row, of in links.items()],
        )
