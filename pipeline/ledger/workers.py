"""Workers: several upload processes sharing one campaign's batches (PostgreSQL).

Usage::

    me = ledger.register_worker(campaign.id, owner="host:pid:uuid", ttl_s=120, run_id=run_id)
    me = ledger.renew_worker(me, ttl_s=120)          # every ttl/4; StaleLeaseError once expired
    works = ledger.claim_sendable(me, limit=8)       # batches nobody live is working on
    ...                                              # mark_attempt(me, …), record_success(me, …)
    busy = ledger.others_in_flight(me)               # wait for these before ending the run
    ledger.end_worker(me)

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
from typing import Any

import sqlalchemy as sa

from pipeline.errors import LedgerError
from pipeline.ledger.base import LedgerBase, Worker, live_worker
from pipeline.ledger.store import schema as t
from pipeline.ledger.store.states import B_PLANNED, B_SENDING, B_UNKNOWN, PLANNED


class WorkersMixin(LedgerBase):
    """Worker registration, renewal, end and the questions a sharing worker asks."""

    def register_worker(
        self, campaign_id: int, *, owner: str, ttl_s: float, run_id: int | None = None
    ) -> Worker:
        """Join the campaign's workers; the new row's id is this worker's fencing token."""
        with self.transaction() as conn:
            now = self.now()
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
            self.event(
                conn,
                entity="worker",
                entity_id=worker.epoch,
                from_state=None,
                to_state="live",
                reason=f"worker {owner!r} joined campaign {campaign_id} (epoch {worker.epoch})",
                lease=worker,
                at=now,
            )
        return worker

    def renew_worker(self, worker: Worker, *, ttl_s: float) -> Worker:
        """Extend the worker's life; StaleLeaseError if it already expired or ended."""
        with self.transaction() as conn:
            self.fence_holder(conn, worker)
            expires = self.now() + timedelta(seconds=ttl_s)
            conn.execute(
                sa.update(t.workers)
                .where(t.workers.c.id == worker.epoch)
                .values(expires_at=expires)
            )
        return Worker(worker.campaign_id, worker.owner, worker.epoch, expires, worker.run_id)

    def end_worker(self, worker: Worker) -> None:
        """Leave the campaign's workers: its claims are free for others at once."""
        w = t.workers.c
        with self.transaction() as conn:
            ended = conn.execute(
                sa.update(t.workers)
                .where(w.id == worker.epoch, w.owner == worker.owner, w.ended_at.is_(None))
                .values(ended_at=self.now())
            ).rowcount
            if ended:
                self.event(
                    conn,
                    entity="worker",
                    entity_id=worker.epoch,
                    from_state="live",
                    to_state="ended",
                    reason="run finished",
                    lease=worker,
                )

    def reap_workers(self, campaign_id: int, *, owner_is_dead: Callable[[str], bool]) -> int:
        """End the live workers whose process is known to be gone (``owner_is_dead``).

        Their batches can be taken over at once instead of after expiry. Only processes of
        this host can be known dead; a worker elsewhere is left to expire. Returns how many.
        """
        w = t.workers.c
        reaped = 0
        with self.transaction() as conn:
            now = self.now()
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
                self.event(
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
            live_worker(b.claim_owner, self.now()),
        )
        return self._count(query, "the campaign's batches in flight")

    def live_workers(self, campaign_id: int) -> int:
        """How many workers of the campaign are live now (this one included)."""
        w = t.workers.c
        query = sa.select(sa.func.count()).where(
            w.campaign_id == campaign_id, w.ended_at.is_(None), w.expires_at > self.now()
        )
        return self._count(query, "the campaign's live workers")

    def planned_rows(self, campaign_id: int) -> int:
        """Rows of the campaign waiting to be frozen into a batch (only the lease holder can)."""
        r = t.rows.c
        query = sa.select(sa.func.count()).where(r.campaign_id == campaign_id, r.state == PLANNED)
        return self._count(query, "the campaign's planned rows")

    def _count(self, query: sa.Select[Any], what: str) -> int:
        try:
            with self.engine.connect() as conn:
                return int(conn.execute(query).scalar_one())
        except sa.exc.SQLAlchemyError as exc:
            raise LedgerError(
                f"cannot read {what}: {exc.__class__.__name__}; check the ledger database and "
                f"run again."
            ) from None

    def check_worker(self, worker: Worker) -> None:
        """Raise StaleLeaseError unless the worker is still live (a read-only fence)."""
        with self.transaction() as conn:
            self.fence_holder(conn, worker)
