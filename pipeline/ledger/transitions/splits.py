"""Splits: a batch the server refused whole (and created nothing of) is cut in two.

Some 400 replies refuse the whole ``addPhones`` request for what one item asks
(``invalid.dialer_priority``, ``invalid.call.allowed.time``…) without saying which phone.
Nothing was created, so the batch's key is retired and its rows are split into two new
batches (new keys, generation + 1, parent = this batch) that the uploader sends like any
other. A half that is refused again is split again; a refused batch of one row rejects that
row with the server's code. A single bad row among 500 costs about 2·log2(500) ≈ 18 extra
requests instead of 499 good rows lost.

A 413 (the body is larger than the server takes) is split the same way, and the campaign
remembers the smaller size (``campaigns.max_batch_rows``, half the refused batch): every
freeze of this run and of later runs cuts batches no larger (:func:`batch_size_for`). A row
too large on its own is rejected as ``row_too_large``.

Usage::

    new_ids = ledger.splits.split_refused(worker, batch_id, code="invalid.dialer_priority",
                                          message=exc.message, body_for=BODY_FOR)
    # [] when the batch had one row: that row is now rejected with the code
    new_ids = ledger.splits.split_too_large(worker, batch_id, message=exc.message,
                                            body_for=BODY_FOR)
    size = batch_size_for(conn, campaign_id, 500)        # min(500, the remembered limit)
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from pipeline.ledger.sharing.claims import check_in_doubt, locked_batches
from pipeline.ledger.sharing.holders import Holder, fence
from pipeline.ledger.store import schema as t
from pipeline.ledger.store.database import Store, clean_error
from pipeline.ledger.store.states import B_PLANNED, B_REJECTED, REJECTED
from pipeline.ledger.transitions.batches import insert_batch, load_rows
from pipeline.ledger.transitions.bodies import BodyFor, PlannedRow

ROW_TOO_LARGE = "row_too_large"  # reason code: a request with this row alone got HTTP 413


def batch_size_for(conn: sa.Connection, campaign_id: int, batch_size: int) -> int:
    """``batch_size``, or the campaign's remembered limit when that is smaller."""
    limit = conn.execute(
        sa.select(t.campaigns.c.max_batch_rows).where(t.campaigns.c.id == campaign_id)
    ).scalar()
    return batch_size if limit is None else max(1, min(batch_size, int(limit)))


class Splits:
    """``ledger.splits``: refused batches cut into halves under new keys."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def split_refused(
        self, holder: Holder, batch_id: int, *, code: str, message: str, body_for: BodyFor
    ) -> list[int]:
        """The server refused the whole batch without naming a row: split it (see module)."""
        text = clean_error(message)
        return self._split(
            holder,
            batch_id,
            body_for=body_for,
            code=code,
            text=text,
            why=f"the server refused the batch without naming a row ({code})",
            rejected=f"rejected by the server: {code}: {text}",
            refused=(
                f"refused by the server without naming a row ({code}: {text}); nothing was created"
            ),
        )

    def split_too_large(
        self, holder: Holder, batch_id: int, *, message: str, body_for: BodyFor
    ) -> list[int]:
        """HTTP 413 for the batch: split it in two, and lower the campaign's batch size to
        the larger half for every later freeze (see module). [] for a batch of one row: that
        row is rejected (``row_too_large``)."""
        text = clean_error(message)
        return self._split(
            holder,
            batch_id,
            body_for=body_for,
            code=ROW_TOO_LARGE,
            text=(
                f"the server refuses a request holding only this row as too large (HTTP 413); "
                f"make its payload smaller. ({text})"
            ),
            why="the server refused the batch as too large (HTTP 413)",
            rejected=f"{ROW_TOO_LARGE}: one row alone is too large for the server: {text}",
            refused=f"refused as too large (HTTP 413: {text}); nothing was created",
            limit=True,
        )

    def _split(
        self,
        holder: Holder,
        batch_id: int,
        *,
        body_for: BodyFor,
        code: str,
        text: str,
        why: str,
        rejected: str,
        refused: str,
        limit: bool = False,
    ) -> list[int]:
        b = t.batches.c
        with self.store.transaction() as conn:
            fence(conn, holder, now=self.store.now)
            now = self.store.now()
            # Locked, claimed by this holder, sent and not settled: as for any outcome.
            batch = check_in_doubt(locked_batches(conn, [batch_id]).get(batch_id), batch_id, holder)
            rows = load_rows(conn, batch_id)
            created: list[int] = []
            if len(rows) == 1:
                conn.execute(
                    sa.update(t.rows)
                    .where(t.rows.c.id == rows[0].id)
                    .values(state=REJECTED, reason_code=code, reason=text)
                )
                reason = rejected
            else:
                if limit:
                    self._lower_limit(conn, holder, len(rows) - len(rows) // 2)
                created = self._halves(conn, holder, batch, rows, body_for, why, now)
                reason = (
                    f"{refused}; its rows were split into batches {created[0]} and {created[1]}"
                )
            conn.execute(
                sa.update(t.batches)
                .where(b.id == batch_id)
                .values(state=B_REJECTED, finished_at=now, last_error=clean_error(text))
            )
            self.store.event(
                conn,
                entity="batch",
                entity_id=batch_id,
                from_state=batch.state,
                to_state=B_REJECTED,
                reason=reason,
                by=holder,
                at=now,
            )
        return created

    def _halves(  # noqa: PLR0917 - private; the parts of one split
        self,
        conn: sa.Connection,
        holder: Holder,
        batch: Any,
        rows: list[PlannedRow],
        body_for: BodyFor,
        why: str,
        now: Any,
    ) -> list[int]:
        half = len(rows) // 2
        created: list[int] = []
        for part in (rows[:half], rows[half:]):
            new_id, key, gen = insert_batch(
                conn,
                campaign_id=holder.campaign_id,
                rows=part,
                body_for=body_for,
                now=now,
                generation=batch.generation + 1,
                parent_id=batch.id,
            )
            created.append(new_id)
            self.store.event(
                conn,
                entity="batch",
                entity_id=new_id,
                from_state=None,
                to_state=B_PLANNED,
                reason=(
                    f"half of batch {batch.id} ({len(part)} rows), new key {key}, generation "
                    f"{gen}: {why}"
                ),
                by=holder,
                at=now,
            )
        return created

    def _lower_limit(self, conn: sa.Connection, holder: Holder, rows: int) -> None:
        campaign_id = holder.campaign_id
        c = t.campaigns.c
        lowered = conn.execute(
            sa.update(t.campaigns)
            .where(c.id == campaign_id, sa.or_(c.max_batch_rows.is_(None), c.max_batch_rows > rows))
            .values(max_batch_rows=rows)
        ).rowcount
        if lowered:
            self.store.event(
                conn,
                entity="campaign",
                entity_id=campaign_id,
                from_state=None,
                to_state=None,
                reason=(
                    f"batches hold at most {rows} rows from now on: the server refused a larger "
                    f"one as too large (HTTP 413)"
                ),
                by=holder,
                at=self.store.now(),
            )
