"""One writer per campaign: acquire, renew and release the campaign's lease.

Usage::

    lease = ledger.leases.acquire(campaign.id, owner="host:pid:uuid", ttl_s=300, run_id=run.id)
    lease = ledger.leases.renew(lease, ttl_s=300)    # well before lease.expires_at
    ledger.leases.release(lease)

A second acquirer while the lease is live gets :class:`~pipeline.errors.LeaseHeldError`; once it
has expired (a killed run), the next acquirer takes it over with ``epoch + 1`` and every write of
the old holder is refused from then on (see :func:`~pipeline.ledger.sharing.holders.fence`).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError, OperationalError, SQLAlchemyError

from pipeline.errors import LeaseHeldError, LedgerError, StaleLeaseError
from pipeline.ledger.sharing.holders import Lease, fence
from pipeline.ledger.store import schema as t
from pipeline.ledger.store.database import Store

_LOCK_NOT_AVAILABLE = "55P03"  # PostgreSQL: FOR UPDATE NOWAIT found the row locked


class Leases:
    """``ledger.leases``: the campaign lease."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def acquire(
        self,
        campaign_id: int,
        *,
        owner: str,
        ttl_s: float,
        run_id: int | None = None,
        owner_is_dead: Callable[[str], bool] | None = None,
    ) -> Lease:
        """Become the one writer of ``campaign_id`` for ``ttl_s`` seconds, or LeaseHeldError.

        ``owner_is_dead(owner)`` may say that the live lease's holder is known to be gone (a
        killed process on this host): its lease is then taken over without waiting for expiry.
        """
        try:
            return self._acquire(campaign_id, owner, ttl_s, run_id, owner_is_dead)
        except IntegrityError:
            # Two first-ever acquirers raced on the INSERT: the other one won.
            raise self._held(campaign_id, "another run", None) from None
        except OperationalError as exc:
            if getattr(exc.orig, "sqlstate", None) != _LOCK_NOT_AVAILABLE:
                raise LedgerError(
                    f"cannot acquire the lease of campaign {campaign_id}: "
                    f"{exc.__class__.__name__}; check the ledger database and run again."
                ) from None
            # The holder is inside a write that fences on the lease row. It may be a process
            # frozen mid-transaction: never wait for it (PostgreSQL would wait forever).
            raise self._held(campaign_id, "another run (in the middle of a write)", None) from None
        except SQLAlchemyError as exc:
            raise LedgerError(
                f"cannot acquire the lease of campaign {campaign_id}: {exc.__class__.__name__}; "
                f"check the ledger database and run again."
            ) from None

    def _acquire(
        self,
        campaign_id: int,
        owner: str,
        ttl_s: float,
        run_id: int | None,
        owner_is_dead: Callable[[str], bool] | None,
    ) -> Lease:
        with self.store.engine.begin() as conn:
            now = self.store.now()
            expires = now + timedelta(seconds=ttl_s)
            current = conn.execute(
                sa.select(t.leases)
                .where(t.leases.c.campaign_id == campaign_id)
                .with_for_update(nowait=True)
            ).first()
            if current is None:
                epoch = 1
                conn.execute(
                    sa.insert(t.leases).values(
                        campaign_id=campaign_id,
                        owner=owner,
                        epoch=epoch,
                        run_id=run_id,
                        acquired_at=now,
                        expires_at=expires,
                    )
                )
                why = "first lease of this campaign"
            else:
                dead = current.owner is not None and bool(
                    owner_is_dead and owner_is_dead(current.owner)
                )
                if current.owner is not None and current.expires_at > now and not dead:
                    raise self._held(campaign_id, current.owner, current.expires_at)
                epoch = current.epoch + 1
                # Compare-and-set on the epoch we saw: of two racing takers only one matches.
                taken = conn.execute(
                    sa.update(t.leases)
                    .where(t.leases.c.campaign_id == campaign_id, t.leases.c.epoch == current.epoch)
                    .values(
                        owner=owner, epoch=epoch, run_id=run_id, acquired_at=now, expires_at=expires
                    )
                )
                if taken.rowcount != 1:
                    raise self._held(campaign_id, "another run", None)
                why = (
                    "previous lease released"
                    if current.owner is None
                    else f"took over the lease of {current.owner!r} (epoch {current.epoch}), "
                    f"{'whose process is gone; it would have expired' if dead else 'expired'} "
                    f"at {current.expires_at.isoformat()}"
                )
            lease = Lease(campaign_id, owner, epoch, expires, run_id)
            self.store.event(
                conn,
                entity="lease",
                entity_id=campaign_id,
                from_state=None,
                to_state="held",
                reason=f"acquired epoch {epoch}: {why}",
                by=lease,
                at=now,
            )
            return lease

    @staticmethod
    def _held(campaign_id: int, owner: str, expires: object) -> LeaseHeldError:
        until = f" until {expires.isoformat()}" if hasattr(expires, "isoformat") else ""
        return LeaseHeldError(
            f"campaign {campaign_id} is being uploaded by {owner}{until}; this run sent "
            f"nothing. Wait for that run to finish (or, if it was killed, for its lease to "
            f"expire) and run again."
        )

    def renew(self, lease: Lease, *, ttl_s: float) -> Lease:
        """Extend the lease; raises StaleLeaseError if it was taken over meanwhile."""
        with self.store.transaction() as conn:
            fence(conn, lease, now=self.store.now)
            expires = self.store.now() + timedelta(seconds=ttl_s)
            conn.execute(
                sa.update(t.leases)
                .where(t.leases.c.campaign_id == lease.campaign_id)
                .values(expires_at=expires)
            )
        return Lease(lease.campaign_id, lease.owner, lease.epoch, expires, lease.run_id)

    def release(self, lease: Lease) -> None:
        """Give the lease up so the next run need not wait for expiry; stale leases are ignored."""
        try:
            with self.store.transaction() as conn:
                fence(conn, lease, now=self.store.now)
                conn.execute(
                    sa.update(t.leases)
                    .where(t.leases.c.campaign_id == lease.campaign_id)
                    .values(owner=None, expires_at=self.store.now())
                )
                self.store.event(
                    conn,
                    entity="lease",
                    entity_id=lease.campaign_id,
                    from_state="held",
                    to_state="released",
                    reason=f"released epoch {lease.epoch}",
                    by=lease,
                )
        except StaleLeaseError:
            return  # someone else owns it now; there is nothing of ours to release
