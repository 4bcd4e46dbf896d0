"""Claims: which holder is working on a batch, and the checks an outcome must pass.

Usage (inside a transaction of the ledger)::

    chosen = claim_batches(conn, holder, batches.c.state == "planned", now=now, limit=8)
    found = locked_batches(conn, [7, 8])                 # batches rows, locked until commit
    check_in_doubt(found.get(7), 7, holder)              # or LedgerError / StaleLeaseError

A claim stamps the holder's (owner, epoch) on the batch. A batch claimed by a live worker is
never taken by another; one claimed by a worker that ended or expired is (its claim is void).
Every outcome must find the writer's own stamp on the batch.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from pipeline.errors import LedgerError, StaleLeaseError
from pipeline.ledger.sharing.holders import Holder, live_worker
from pipeline.ledger.store import schema as t
from pipeline.ledger.store.states import B_IN_DOUBT


def claim_batches(
    conn: sa.Connection,
    holder: Holder,
    *conditions: sa.ColumnElement[bool],
    now: datetime,
    limit: int,
) -> list[Any]:
    """Batches of the holder's campaign meeting ``conditions``, oldest first, stamped as claimed
    by ``holder`` (owner, epoch). A batch claimed by a live worker is never taken; one claimed
    by a worker that ended or expired is (its claim is void). SKIP LOCKED lets several
    PostgreSQL workers share the queue without waiting on each other's rows; SQLite ignores
    FOR UPDATE (one writer holds the file anyway)."""
    b = t.batches.c
    chosen = conn.execute(
        sa.select(t.batches)
        .where(
            b.campaign_id == holder.campaign_id,
            *conditions,
            sa.or_(b.claim_owner.is_(None), ~live_worker(b.claim_owner, now)),
        )
        .order_by(b.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    ).all()
    if chosen:
        conn.execute(
            sa.update(t.batches)
            .where(b.id.in_([c.id for c in chosen]))
            .values(claim_owner=holder.owner, claim_epoch=holder.epoch)
        )
    return list(chosen)


def locked_batches(conn: sa.Connection, batch_ids: Sequence[int]) -> dict[int, Any]:
    """The ``batches`` rows of these ids, locked until commit (PostgreSQL; SQLite's write
    transaction holds the whole file)."""
    b = t.batches.c
    query = sa.select(t.batches).where(b.id.in_(list(batch_ids))).with_for_update()
    return {row.id: row for row in conn.execute(query)}


def check_claim(batch: Any, holder: Holder) -> None:
    """Refuse a write about ``batch`` unless ``holder`` is the one that claimed it last."""
    if batch.claim_owner is None:
        raise LedgerError(
            f"batch {batch.id} was never claimed, so {holder.owner!r} cannot write its outcome; "
            f"claim it with claim_sendable() first (a bug in the caller)."
        )
    if batch.claim_owner != holder.owner or batch.claim_epoch != holder.epoch:
        raise StaleLeaseError(
            f"batch {batch.id} is claimed by {batch.claim_owner!r} (epoch {batch.claim_epoch}), "
            f"not by {holder.owner!r} (epoch {holder.epoch}): it was taken over, so this write "
            f"was refused and nothing changed. Stop this worker; the batch is in other hands."
        )


def check_in_doubt(batch: Any, batch_id: int, holder: Holder) -> Any:
    """``batch``, or refuse an outcome for it unless the holder claimed it and it was sent."""
    if batch is None or batch.campaign_id != holder.campaign_id:
        raise LedgerError(f"batch {batch_id} is not a batch of campaign {holder.campaign_id}.")
    check_claim(batch, holder)
    if batch.state not in B_IN_DOUBT:
        raise LedgerError(
            f"batch {batch_id} is {batch.state}: an outcome can only be recorded for a batch "
            f"that was sent (sending/unknown). This is a bug in the caller."
        )
    return batch
