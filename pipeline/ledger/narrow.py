"""Narrowing a refused batch down to its bad row(s) when the server does not name one.

Some 400 replies refuse the whole ``addPhones`` request for what one item asks
(``invalid.dialer_priority``, ``invalid.call.allowed.time``…) without saying which phone.
Nothing was created, so the batch's key is retired and its rows are split into two new
batches (new keys, generation + 1, parent = this batch) that the uploader sends like any
other. A half that is refused again is split again; a refused batch of one row rejects that
row with the server's code. A single bad row among 500 costs about 2·log2(500) ≈ 18 extra
requests instead of 499 good rows lost.

Usage::

    new_ids = ledger.split_refused(worker, batch_id, code="invalid.dialer_priority",
                                   message=exc.message, body_for=BODY_FOR)
    # [] when the batch had one row: that row is now rejected with the code
"""

from __future__ import annotations

import sqlalchemy as sa

from pipeline.ledger import schema as t
from pipeline.ledger.base import Holder, LedgerBase
from pipeline.ledger.batches import BodyFor, insert_batch, load_rows
from pipeline.ledger.send import clean_error
from pipeline.ledger.sendsql import check_in_doubt, locked_batches
from pipeline.ledger.states import B_PLANNED, B_REJECTED, REJECTED


class NarrowMixin(LedgerBase):
    """``split_refused`` of the :class:`~pipeline.ledger.Ledger`."""

    def split_refused(
        self, holder: Holder, batch_id: int, *, code: str, message: str, body_for: BodyFor
    ) -> list[int]:
        """The server refused the whole batch without naming a row: split it (see module)."""
        b = t.batches.c
        text = clean_error(message)
        with self.transaction() as conn:
            self.fence_holder(conn, holder)
            now = self.now()
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
                why = f"rejected by the server: {code}: {text}"
            else:
                half = len(rows) // 2
                for part in (rows[:half], rows[half:]):
                    new_id, key, gen = insert_batch(
                        conn,
                        campaign_id=holder.campaign_id,
                        rows=part,
                        body_for=body_for,
                        now=now,
                        generation=batch.generation + 1,
                        parent_id=batch_id,
                    )
                    created.append(new_id)
                    self.event(
                        conn,
                        entity="batch",
                        entity_id=new_id,
                        from_state=None,
                        to_state=B_PLANNED,
                        reason=(
                            f"half of batch {batch_id} ({len(part)} rows), new key {key}, "
                            f"generation {gen}: the "
                            f"server refused the batch without naming a row ({code})"
                        ),
                        lease=holder,
                        at=now,
                    )
                why = (
                    f"refused by the server without naming a row ({code}: {text}); nothing was "
                    f"created; its rows were split into batches {created[0]} and {created[1]} "
                    f"to find the row(s) it refuses"
                )
            conn.execute(
                sa.update(t.batches)
                .where(b.id == batch_id)
                .values(state=B_REJECTED, finished_at=now, last_error=text)
            )
            self.event(
                conn,
                entity="batch",
                entity_id=batch_id,
                from_state=batch.state,
                to_state=B_REJECTED,
                reason=why,
                lease=holder,
                at=now,
            )
        return created
