"""Sending: claim the batches that may go out, and record each intent before its request.

Usage (the HTTP call happens outside any transaction)::

    for work in ledger.sending.claim_sendable(lease, limit=8):
        body = work.body(encode_add_phones)            # digest checked
        ledger.sending.mark_attempt(lease, work.id)    # durable before the first byte
        ...                                            # send; then ledger.replies.record_*(...)

``claim_sendable`` never returns a batch whose key may have expired; ``mark_attempt`` checks
again inside its transaction and raises :class:`~pipeline.errors.KeyExpiredError`.
``mark_attempts`` does the same for a group of batches in one transaction (one flush for all
their intents). What the server answered is recorded by :mod:`.replies`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from pipeline.errors import KeyExpiredError, LedgerError
from pipeline.ledger.sharing.claims import check_claim, claim_batches, locked_batches
from pipeline.ledger.sharing.holders import Holder, fence
from pipeline.ledger.store import schema as t
from pipeline.ledger.store.bulk import db_value, executemany
from pipeline.ledger.store.database import Store
from pipeline.ledger.store.states import B_SENDABLE, B_SENDING
from pipeline.ledger.transitions.batches import FreshRows, load_work
from pipeline.ledger.transitions.bodies import BatchWork

# Through the driver with plain values: SQLAlchemy's per-row parameter processing would cost
# more than the statement itself.
_MARK = (
    "UPDATE batches SET state = ?, attempts = ?, first_sent_at = ?, last_sent_at = ? WHERE id = ?"
)


class Sending:
    """``ledger.sending``: claims of sendable batches and the intent before each send."""

    def __init__(self, store: Store, fresh: FreshRows) -> None:
        self.store, self.fresh = store, fresh

    def claim_sendable(self, lease: Holder, *, limit: int) -> list[BatchWork]:
        """Claim up to ``limit`` batches that may be sent now under their own key.

        Sendable: planned, unknown, or ``sending`` left by an earlier lease (a dead run),
        not claimed by this lease yet, and with a key not older than 24 h minus the safety
        margin. A batch this lease already gave up on (left unknown) is not offered again in
        the same run. On PostgreSQL the rows are locked with SKIP LOCKED so several workers
        can share the queue; SQLite ignores FOR UPDATE (one writer holds the file anyway).
        """
        b = t.batches.c
        # A claim only stamps the epoch; losing it to a power cut loses nothing (the intent
        # commit of mark_attempt is durable and flushes the claim with it).
        with self.store.transaction(durable=False) as conn:
            fence(conn, lease, now=self.store.now)
            now = self.store.now()
            cutoff = self.store.key_expiry_cutoff(now)
            chosen = claim_batches(
                conn,
                lease,
                b.state.in_(B_SENDABLE),
                sa.or_(b.first_sent_at.is_(None), b.first_sent_at > cutoff),
                # not one this holder already claimed (and gave up on) in this run
                sa.or_(
                    b.claim_owner.is_(None),
                    b.claim_owner != lease.owner,
                    b.claim_epoch != lease.epoch,
                ),
                now=now,
                limit=limit,
            )
            return [load_work(conn, c, known=self.fresh.take(c.id)) for c in chosen]

    def mark_attempt(self, lease: Holder, batch_id: int) -> int:
        """Durably record that the batch is about to be sent; returns the attempt number."""
        return self.mark_attempts(lease, [batch_id])[0]

    def mark_attempts(self, lease: Holder, batch_ids: Sequence[int]) -> list[int]:
        """:meth:`mark_attempt` for several batches in ONE durable transaction: one flush for
        all their intents, before any of them is sent. Returns the attempt numbers in order.

        All or nothing: if the key of any of them may have expired meanwhile,
        :class:`KeyExpiredError` and none is marked (mark them one by one to sort them out).
        """
        with self.store.transaction() as conn:
            fence(conn, lease, now=self.store.now)
            now = self.store.now()
            cutoff = self.store.key_expiry_cutoff(now)
            found = locked_batches(conn, batch_ids)
            at = db_value(conn, t.batches.c.last_sent_at, now)
            attempts: list[int] = []
            updates: list[tuple[Any, ...]] = []
            events: list[tuple[str, int, str | None, str | None, str]] = []
            for batch_id in batch_ids:
                batch = check_sendable(found.get(batch_id), batch_id, lease, cutoff)
                attempt: int = batch.attempts + 1
                first = at
                if batch.first_sent_at is not None:
                    first = db_value(conn, t.batches.c.first_sent_at, batch.first_sent_at)
                updates.append((B_SENDING, attempt, first, at, batch_id))
                reason = f"attempt {attempt} with key {batch.request_key}"
                events.append(("batch", batch_id, batch.state, B_SENDING, reason))
                attempts.append(attempt)
            executemany(conn, _MARK, updates)
            self.store.events(conn, events, by=lease, at=now)
        return attempts


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
