"""Workers: several upload processes sharing one campaign's batches (PostgreSQL).

Usage::

    me = ledger.workers.register(campaign.id, owner="host:pid:uuid", ttl_s=120, run_id=run_id)
    me = ledger.workers.renew(me, ttl_s=120)        # every ttl/4; StaleLeaseError once expired
    works = ledger.sending.claim_sendable(me, limit=8)   # batches nobody live is working on
    ...                                 # ledger.sending.mark_attempt(me, …), record_success(me, …)
    busy = ledger.workers.others_in_flight(me)       # wait for these before ending the run
    ledger.workers.end(me)

A worker's row id is its fencing token: every batch it claims is stamped with it, and every
outcome it writes must still find its own stamp on the batch *and* its own row live. A worker
that stalls past its expiry (GC pause, SIGSTOP, a frozen VM) is dead for good: its batches are
claimed by others (who resend them under the same key, which the server replays), and whatever
it tries to write when it wakes up is refused with :class:`~pipeline.errors.StaleLeaseError`.

Expiry is judged by the ledger clock of the process that looks: hosts sharing a ledger must keep
their clocks in sync (NTP); the lease TTL (minutes) is meant to dwarf their skew.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import sqlalchemy as sa

from pipeline.ledger.sharing.holders import Worker, fence, live_worker
from pipeline.ledger.store import schema as t
from pipeline.ledger.store.database import Store
from pipeline.ledger.store.states import B_PLANNED, B_SENDING, B_UNKNOWN


class Workers:
    """``ledger.workers``: registration, renewal, end, and the questions a sharing worker asks."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def register(
        self, campaign_id: int, *, owner: str, ttl_s: float, run_id: int | None = None
    ) -> Worker:
        """Join the campaign's workers; the new row's id is this worker's fencing token."""
        with self.store.transaction() as conn:
            now = self.store.now()
            expires = now + timedelta(seconds=ttl_s)
            result = conn.execute(
                sa.insert(t.workers).values(
                    campaign_id=campaign_id,
                    owner=owner,
                    run_id=run_id,
                    started_at=now,
                    expires_at=expires,
                )
            )
            key = result.inserted_primary_key
            assert key is not None
            worker = Worker(campaign_id, owner, int(key[0]), expires, run_id)
            self.store.event(
                conn,
                entity="worker",
                entity_id=worker.epoch,
                from_state=None,
                to_state="live",
                reason=f"worker {owner!r} joined campaign {campaign_id} (epoch {worker.epoch})",
                by=worker,
                at=now,
            )
        return worker

    def renew(self, worker: Worker, *, ttl_s: float) -> Worker:
        """Extend the worker's life; StaleLeaseError if it already expired or ended."""
        with self.store.transaction() as conn:
            fence(conn, worker, now=self.store.now)
            expires = self.store.now() + timedelta(seconds=ttl_s)
            conn.execute(
                sa.update(t.workers)
                .where(t.workers.c.id == worker.epoch)
                .values(expires_at=expires)
            )
        return Worker(worker.campaign_id, worker.owner, worker.epoch, expires, worker.run_id)

    def end(self, worker: Worker) -> None:
        """Leave the campaign's workers: its claims are free for others at once."""
        w = t.workers.c
        with self.store.transaction() as conn:
            ended = conn.execute(
                sa.update(t.workers)
                .where(w.id == worker.epoch, w.owner == worker.owner, w.ended_at.is_(None))
                .values(ended_at=self.store.now())
            ).rowcount
            if ended:
                self.store.event(
                    conn,
                    entity="worker",
                    entity_id=worker.epoch,
                    from_state="live",
                    to_state="ended",
                    reason="run finished",
                    by=worker,
                )

    def reap(self, campaign_id: int, *, owner_is_dead: Callable[[str], bool]) -> int:
        """End the live workers whose process is known to be gone (``owner_is_dead``).

        Their batches can be taken over at once instead of after expiry. Only processes of
        this host can be known dead; a worker elsewhere is left to expire. Returns how many.
        """
        w = t.workers.c
        reaped = 0
        with self.store.transaction() as conn:
            now = self.store.now()
            live = conn.execute(
                sa.select(w.id, w.owner)
                .where(w.campaign_id == campaign_id, w.ended_at.is_(None), w.expires_at > now)
                .order_by(w.id)  # two reapers lock rows in one order: no deadlock
            ).all()
            for row in live:
                if not owner_is_dead(row.owner):
                    continue
                ended = conn.execute(
                    sa.update(t.workers)
                    .where(w.id == row.id, w.ended_at.is_(None))
                    .values(ended_at=now)
                ).rowcount
                if not ended:
                    continue  # another reaper was first
                reaped += ended
                self.store.event(
                    conn,
                    entity="worker",
                    entity_id=row.id,
                    from_state="live",
                    to_state="ended",
                    reason=f"process of {row.owner!r} is gone; its claims are free",
                    at=now,
                )
        return reaped

    def others_in_flight(self, worker: Worker) -> int:
        """Batches of the campaign that live *other* workers have claimed and not settled.

        Claimed but not sent yet, on the wire, or ``unknown`` between two attempts: they will
        be settled by their worker, or — if it dies — become claimable once it expires. A
        worker that wants the campaign done waits while this is non-zero. ``unknown`` batches
        count only while this worker has none of its own: a worker that gave up on a batch
        (it stays unknown under its claim until the worker ends) must not wait for another
        that did the same, or the two would wait for each other until their budgets end.
        """
        b = t.batches.c
        mine = sa.and_(b.claim_owner == worker.owner, b.claim_epoch == worker.epoch)
        gave_up = sa.select(b.id).where(mine, b.state == B_UNKNOWN).exists()
        query = sa.select(sa.func.count()).where(
            b.campaign_id == worker.campaign_id,
            b.claim_owner.is_not(None),
            b.claim_owner != worker.owner,
            sa.or_(
                b.state.in_((B_PLANNED, B_SENDING)),
                sa.and_(b.state == B_UNKNOWN, ~gave_up),
            ),
            live_worker(b.claim_owner, self.store.now()),
        )
        return self.store.count(query, "the campaign's batches in flight")

    def count_live(self, campaign_id: int) -> int:
        """How many workers of the campaign are live now (this one included)."""
        w = t.workers.c
        query = sa.select(sa.func.count()).where(
            w.campaign_id == campaign_id, w.ended_at.is_(None), w.expires_at > self.store.now()
        )
        return self.store.count(query, "the campaign's live workers")

    def check(self, worker: Worker) -> None:
        """Raise StaleLeaseError unless the worker is still live (a read-only fence)."""
        with self.store.transaction() as conn:
            fence(conn, worker, now=self.store.now)
