"""Who may write a campaign's batches, and the fence every such write passes first.

Usage (inside a write's transaction)::

    fence(conn, lease, now=store.now)     # StaleLeaseError, and nothing of the write is kept
    live = live_worker(batches.c.claim_owner, now)      # SQL: EXISTS a live worker of that name

One record, two roles. The campaign's one writer holds a :class:`Lease` (a ``leases`` row):
planning, freezing and reconciliation need it. With PostgreSQL work sharing, several runs hold
a :class:`Worker` each (a ``workers`` row) and share the sending. Both are passed to every send
operation as a :class:`Holder`; the fence tells them apart.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from pipeline.errors import StaleLeaseError
from pipeline.ledger.store import schema as t


@dataclass(frozen=True, slots=True)
class Holder:
    """Proof that this process may write a campaign's batches; every such write carries it.

    ``epoch`` is the fencing token stamped on every batch the holder claims: a lease's grows
    by one on every acquisition, a worker's is its row id in ``workers`` (unique, growing). A
    writer that slept through a takeover holds an older epoch, and its writes are refused
    (:class:`~pipeline.errors.StaleLeaseError`).
    """

    campaign_id: int
    owner: str
    epoch: int
    expires_at: datetime
    run_id: int | None = None


@dataclass(frozen=True, slots=True)
class Lease(Holder):
    """The campaign's one writer (:mod:`pipeline.ledger.sharing.leases`)."""


@dataclass(frozen=True, slots=True)
class Worker(Holder):
    """One of several upload processes sharing a campaign's batches, all live at once
    (:mod:`pipeline.ledger.sharing.workers`)."""


def fence(conn: sa.Connection, holder: Holder, *, now: Callable[[], datetime]) -> None:
    """Refuse the enclosing transaction's write unless ``holder`` may still write.

    A lease: a conditional UPDATE of the lease row that matches only while owner and epoch are
    unchanged; on PostgreSQL it also locks the row until commit, so a takeover cannot slip in
    between this check and the write it protects. A worker: its row must be live at ``now()``.
    Expiry is final: a worker that slept past ``expires_at`` stays refused even if nobody took
    its batches yet (its renewal is refused too), so it cannot come back half-way. The UPDATE
    locks the worker row on PostgreSQL until commit.
    """
    if isinstance(holder, Lease):
        _fence_lease(conn, holder)
        return
    w = t.workers.c
    result = conn.execute(
        sa.update(t.workers)
        .where(
            w.id == holder.epoch,
            w.owner == holder.owner,
            w.ended_at.is_(None),
            w.expires_at > now(),
        )
        .values(expires_at=w.expires_at)
    )
    if result.rowcount != 1:
        raise StaleLeaseError(
            f"worker {holder.owner!r} (epoch {holder.epoch}) of campaign "
            f"{holder.campaign_id} has expired or ended; this write was refused and nothing "
            f"changed. Other workers may have taken its batches over: stop this one."
        )


def _fence_lease(conn: sa.Connection, lease: Lease) -> None:
    result = conn.execute(
        sa.update(t.leases)
        .where(
            t.leases.c.campaign_id == lease.campaign_id,
            t.leases.c.epoch == lease.epoch,
            t.leases.c.owner == lease.owner,
        )
        .values(epoch=t.leases.c.epoch)
    )
    if result.rowcount != 1:
        raise StaleLeaseError(
            f"the lease of campaign {lease.campaign_id} held by {lease.owner!r} at epoch "
            f"{lease.epoch} was taken over or released; this write was refused and nothing "
            f"changed. Another run now owns the campaign: stop this one."
        )


def live_worker(owner: sa.ColumnElement[str | None], now: datetime) -> sa.Exists:
    """EXISTS a live worker named ``owner`` (not ended, not expired at ``now``)."""
    w = t.workers.c
    return (
        sa.select(w.id).where(w.owner == owner, w.ended_at.is_(None), w.expires_at > now).exists()
    )
