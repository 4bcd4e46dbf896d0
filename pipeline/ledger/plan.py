"""Planning: record every input row of a file in exactly one state.

Usage::

    state = ledger.begin_input(lease, name="export.csv", sha256=digest)
    for chunk in records_in_chunks:              # CallItem | Rejection | Duplicate per row
        ledger.plan_chunk(lease, state.id, chunk)
    ledger.complete_input(lease, state.id, rows_total=n)

Each chunk is one transaction (inserted with ``executemany``, row ids in file order so every
index but the row-key one grows at its right edge). Rows at or below the input's
``planned_through`` are skipped, which makes re-feeding a half-planned file safe.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from functools import lru_cache
from operator import attrgetter
from typing import Any

import sqlalchemy as sa

from pipeline.errors import LedgerError
from pipeline.ledger import schema as t
from pipeline.ledger.base import Lease, LedgerBase, bulk_insert
from pipeline.ledger.keys import canonical_json, row_key
from pipeline.ledger.states import BATCHED, DUPLICATE, PLANNED, REJECTED, SENT
from pipeline.records import CallItem, Duplicate, Rejection

# A repeat of a row sent less than a week ago is a duplicate (see README "Cross-run duplicates").
DEFAULT_REPEAT_WINDOW_S = 7 * 86_400.0
_LOOKUP_CHUNK = 5_000  # bound parameters per IN (...) query, far below SQLite's 32,766

PlanRecord = CallItem | Rejection | Duplicate
_ROW = attrgetter("row")

# Column order of a planned row's values; plan_chunk builds plain lists in this order.
_COLS = (
    "input_id",
    "row_number",
    "run_id",
    "campaign_id",
    "row_key",
    "phone",
    "payload",
    "policy",
    "state",
    "reason_code",
    "reason",
    "duplicate_of",
)
_ROW_NUMBER, _KEY, _PHONE, _STATE, _REASON_CODE, _REASON, _DUP_OF = 1, 4, 5, 8, 9, 10, 11


@lru_cache(maxsize=256)
def _policy_json_cached(items: tuple[tuple[str, Any], ...]) -> str:
    return canonical_json(dict(items))


def _policy_json(policy: dict[str, Any]) -> str:
    """Canonical JSON of a policy; most rows of a file share one, so flat ones are cached."""
    if not policy:
        return "{}"
    items = tuple(policy.items())
    try:
        return _policy_json_cached(items)
    except TypeError:  # a list or dict value (allowedDays, allowedTime) is not hashable
        return canonical_json(policy)


def _row_values(rec: PlanRecord, fp: str, base: tuple[Any, ...]) -> tuple[Any, ...]:
    """One row's values in ``_COLS`` order (``base`` = input id, run id, campaign id)."""
    input_id, run_id, campaign_id = base
    if isinstance(rec, CallItem):
        payload, policy = canonical_json(rec.payload), _policy_json(rec.policy)
        key = row_key(fp, rec.phone, payload, policy)
        return (input_id, rec.row, run_id, campaign_id, key, rec.phone, payload, policy,
                PLANNED, None, None, None)  # fmt: skip
    head = (input_id, rec.row, run_id, campaign_id, None, None, None, None)
    if isinstance(rec, Rejection):
        where = f"{rec.column}: " if rec.column else ""
        return (*head, REJECTED, rec.code, where + rec.message, None)
    return (*head, DUPLICATE, "duplicate", f"repeats row {rec.duplicate_of} of the same file", None)


@dataclass(slots=True)
class PlanCounts:
    """What one :meth:`PlanMixin.plan_chunk` recorded."""

    planned: int = 0
    rejected: int = 0
    duplicate: int = 0
    repeat_of_earlier_run: int = 0
    skipped_already_planned: int = 0

    def add(self, other: PlanCounts) -> None:
        """Add ``other``'s numbers to these."""
        self.planned += other.planned
        self.rejected += other.rejected
        self.duplicate += other.duplicate
        self.repeat_of_earlier_run += other.repeat_of_earlier_run
        self.skipped_already_planned += other.skipped_already_planned


class PlanMixin(LedgerBase):
    """Planning and freezing operations of the :class:`~pipeline.ledger.Ledger`."""

    def _fingerprint(self, conn: sa.Connection, campaign_id: int) -> str:
        fp: str | None = conn.execute(
            sa.select(t.campaigns.c.fingerprint).where(t.campaigns.c.id == campaign_id)
        ).scalar()
        if fp is None:
            raise LedgerError(f"campaign {campaign_id} is not in the ledger.")
        return fp

    def plan_chunk(
        self,
        lease: Lease,
        input_id: int,
        records: Sequence[PlanRecord],
        *,
        allow_repeats: bool = False,
        repeat_window_s: float = DEFAULT_REPEAT_WINDOW_S,
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
        )

    def plan_chunks(
        self,
        lease: Lease,
        input_id: int,
        chunks: Iterable[Sequence[PlanRecord]],
        *,
        allow_repeats: bool = False,
        repeat_window_s: float = DEFAULT_REPEAT_WINDOW_S,
    ) -> PlanCounts:
        """:meth:`plan_chunk` for each chunk (in row order), one transaction per chunk."""
        total = PlanCounts()
        with self.transaction() as conn:
            fp = self._fingerprint(conn, lease.campaign_id)
        base = (input_id, lease.run_id, lease.campaign_id)

        for records in chunks:
            todo = sorted(records, key=_ROW)
            values = [_row_values(rec, fp, base) for rec in todo]
            links = {r.row: r.duplicate_of for r in todo if isinstance(r, Duplicate)}
            got = self._write_chunk(
                lease,
                input_id,
                values,
                dup_links=links,
                allow_repeats=allow_repeats,
                window_s=repeat_window_s,
            )
            total.add(got)
        return total

    def _write_chunk(
        self,
        lease: Lease,
        input_id: int,
        values: list[tuple[Any, ...]],
        *,
        dup_links: dict[int, int],
        allow_repeats: bool,
        window_s: float,
    ) -> PlanCounts:
        counts = PlanCounts()
        # Not flushed at commit: a power loss can only take back planning (and the input's
        # planned_through with it), which the next run redoes; see LedgerBase.transaction.
        with self.transaction(durable=False) as conn:
            self.fence(conn, lease)
            done = conn.execute(
                sa.select(t.inputs.c.planned_through).where(
                    t.inputs.c.id == input_id, t.inputs.c.campaign_id == lease.campaign_id
                )
            ).scalar()
            if done is None:
                raise LedgerError(
                    f"input {input_id} is not an input of campaign {lease.campaign_id}."
                )
            if values and values[0][_ROW_NUMBER] <= done:  # resuming: skip what is in already
                counts.skipped_already_planned = len(values)
                values = [v for v in values if v[_ROW_NUMBER] > done]
                counts.skipped_already_planned -= len(values)
            if not values:
                return counts
            if not allow_repeats:
                self._mark_repeats(conn, values, input_id, lease.campaign_id, window_s, counts)
            bulk_insert(conn, t.rows, _COLS, values)
            self._link_duplicates(conn, input_id, {k: v for k, v in dup_links.items() if k > done})
            for v in values:
                state = v[_STATE]
                if state == PLANNED:
                    counts.planned += 1
                elif state == REJECTED:
                    counts.rejected += 1
                else:
                    counts.duplicate += 1
            first, last = values[0][_ROW_NUMBER], values[-1][_ROW_NUMBER]
            conn.execute(
                sa.update(t.inputs).where(t.inputs.c.id == input_id).values(planned_through=last)
            )
            self.event(
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
                lease=lease,
            )
        return counts

    def _mark_repeats(  # noqa: PLR0917 - private helper of _write_chunk
        self,
        conn: sa.Connection,
        values: list[tuple[Any, ...]],
        input_id: int,
        campaign_id: int,
        window_s: float,
        counts: PlanCounts,
    ) -> None:
        """Turn rows that repeat a row of another input into duplicates of it."""
        i = t.inputs.c
        others = conn.execute(
            sa.select(i.id).where(i.campaign_id == campaign_id, i.id != input_id).limit(1)
        ).first()
        if others is None:
            return  # the campaign's first file: nothing it could repeat
        wanted = {v[_KEY]: n for n, v in enumerate(values) if v[_STATE] == PLANNED}
        # Looked up by phone (the one indexed column both `ledger phone` and this need), then
        # matched on the row key, which also covers payload and policy.
        phones = sorted({values[n][_PHONE] for n in wanted.values()})
        since = self.now() - timedelta(seconds=window_s)
        r = t.rows.c
        live = sa.or_(r.state.in_((PLANNED, BATCHED)), sa.and_(r.state == SENT, r.sent_at >= since))
        earliest: dict[str, int] = {}
        for n in range(0, len(phones), _LOOKUP_CHUNK):
            query = sa.select(r.row_key, r.id).where(
                r.phone.in_(phones[n : n + _LOOKUP_CHUNK]), r.input_id != input_id, live
            )
            for key, row_id in conn.execute(query):
                if key in wanted and (key not in earliest or row_id < earliest[key]):
                    earliest[key] = row_id
        for key, earlier in earliest.items():
            n = wanted[key]
            why = (
                f"same phone, payload and policy as ledger row {earlier} "
                f"(another file, sent or still on its way)"
            )
            values[n] = (*values[n][:_STATE], DUPLICATE, "duplicate", why, earlier)
            counts.repeat_of_earlier_run += 1

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
