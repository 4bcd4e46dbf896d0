"""Cancellations in the ledger: intents stored before ``callJob/cancel``, outcomes after.

The same discipline as upload's batches: the jobs of a request and its idempotence key are
committed (:meth:`Cancels.plan`) before the first byte is sent, and the reply is
recorded in one transaction (:meth:`Cancels.record`) with an event for the request
and one per cancelled row. A request left ``planned`` by a crash is picked up by the next
``cancel`` (:meth:`Cancels.open`) and sent again under its key, or under a new key
once the old one may have expired on the server (cancelling is idempotent on the server too:
a job already cancelled is simply not returned again).

A job that was in a finished request is never requested again, whether the server cancelled
it or answered that it had already finished; so a second ``cancel`` of the same selection
finds nothing left to do.

Usage::

    targets = ledger.cancels.targets(RowSelection(campaign.id, run_id=12))
    for work in [*ledger.cancels.open(campaign.id), *ledger.cancels.plan(
            campaign.id, run_id, targets, chunk_size=200)]:
        ledger.cancels.mark_attempt(work.id)
        cancelled = client.cancel_jobs(ids=work.job_ids, idempotence_key=work.request_key)
        ledger.cancels.record(work.id, cancelled, run_id=run_id)
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

import sqlalchemy as sa

from pipeline.ledger.store import schema as t
from pipeline.ledger.store.database import Store, inserted_id
from pipeline.ledger.store.states import SENT
from pipeline.ledger.transitions.outcomes import RowSelection

C_PLANNED = "planned"
C_DONE = "done"


@dataclass(frozen=True, slots=True)
class CancelTarget:
    """A sent row whose job may be cancelled."""

    row_id: int
    job_id: str
    phone: str


@dataclass(frozen=True, slots=True)
class CancelWork:
    """One stored cancel request: send ``job_ids`` under ``request_key``."""

    id: int
    request_key: str
    job_ids: list[str]


@dataclass(frozen=True, slots=True)
class CancelRecord:
    """What :meth:`Cancels.record` stored."""

    requested: int
    cancelled: int


class Cancels:
    """``ledger.cancels``: cancel intents and outcomes (no lease: only ``cancel`` writes them)."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def targets(self, selection: RowSelection) -> list[CancelTarget]:
        """Sent rows of the selection whose jobs are in no cancel request yet, in file order."""
        r, ci = t.rows.c, t.cancel_items.c
        query = (
            sa.select(r.id, r.job_id, r.phone)
            .where(
                *selection.where(),
                r.state == SENT,
                r.job_id.is_not(None),
                ~sa.exists().where(ci.row_id == r.id),
            )
            .order_by(r.input_id, r.row_number)
        )
        with self.store.engine.connect() as conn:
            return [CancelTarget(a, str(b), c or "") for a, b, c in conn.execute(query)]

    def plan(
        self, campaign_id: int, run_id: int, targets: Sequence[CancelTarget], *, chunk_size: int
    ) -> list[CancelWork]:
        """Store the targets as requests of at most ``chunk_size`` jobs, each with a new key."""
        works: list[CancelWork] = []
        with self.store.transaction() as conn:
            for start in range(0, len(targets), chunk_size):
                chunk = targets[start : start + chunk_size]
                key = str(uuid.uuid4())
                request_id = inserted_id(
                    conn.execute(
                        sa.insert(t.cancel_requests).values(
                            campaign_id=campaign_id,
                            run_id=run_id,
                            request_key=key,
                            state=C_PLANNED,
                            created_at=self.store.now(),
                        )
                    )
                )
                conn.execute(
                    sa.insert(t.cancel_items),
                    [
                        {
                            "request_id": request_id,
                            "position": n,
                            "row_id": x.row_id,
                            "job_id": x.job_id,
                        }
                        for n, x in enumerate(chunk)
                    ],
                )
                self.store.event(
                    conn,
                    entity="cancel",
                    entity_id=request_id,
                    from_state=None,
                    to_state=C_PLANNED,
                    reason=f"cancel of {len(chunk)} call job(s) planned under key {key}",
                    run_id=run_id,
                )
                works.append(CancelWork(request_id, key, [x.job_id for x in chunk]))
        return works

    def open(self, campaign_id: int, *, run_id: int | None = None) -> list[CancelWork]:
        """Requests left ``planned`` by an earlier run; an expired key is replaced first."""
        cr, ci = t.cancel_requests.c, t.cancel_items.c
        cutoff = self.store.key_expiry_cutoff(self.store.now())
        works: list[CancelWork] = []
        with self.store.transaction() as conn:
            found = conn.execute(
                sa.select(cr.id, cr.request_key, cr.first_sent_at)
                .where(cr.campaign_id == campaign_id, cr.state == C_PLANNED)
                .order_by(cr.id)
            ).all()
            for request_id, stored_key, first_sent in found:
                key = stored_key
                if first_sent is not None and first_sent <= cutoff:
                    old, key = stored_key, str(uuid.uuid4())
                    conn.execute(
                        sa.update(t.cancel_requests)
                        .where(cr.id == request_id)
                        .values(request_key=key, first_sent_at=None)
                    )
                    self.store.event(
                        conn,
                        entity="cancel",
                        entity_id=request_id,
                        from_state=C_PLANNED,
                        to_state=C_PLANNED,
                        reason=f"key {old} may have expired on the server; resent under {key}",
                        run_id=run_id,
                    )
                jobs = conn.execute(
                    sa.select(ci.job_id).where(ci.request_id == request_id).order_by(ci.position)
                ).scalars()
                works.append(CancelWork(request_id, key, [str(j) for j in jobs]))
        return works

    def mark_attempt(self, request_id: int) -> None:
        """Note the first send of a request (its key's lifetime starts on the server now)."""
        cr = t.cancel_requests.c
        with self.store.transaction() as conn:
            conn.execute(
                sa.update(t.cancel_requests)
                .where(cr.id == request_id, cr.first_sent_at.is_(None))
                .values(first_sent_at=self.store.now())
            )

    def record(
        self, request_id: int, cancelled_ids: Sequence[str], *, run_id: int | None = None
    ) -> CancelRecord:
        """Record the server's reply: which of the request's jobs it actually cancelled."""
        cr, ci = t.cancel_requests.c, t.cancel_items.c
        done = set(cancelled_ids)
        with self.store.transaction() as conn:
            items = conn.execute(
                sa.select(ci.position, ci.row_id, ci.job_id).where(ci.request_id == request_id)
            ).all()
            for flag in (True, False):
                positions = [p for p, _, job in items if (job in done) is flag]
                if positions:
                    conn.execute(
                        sa.update(t.cancel_items)
                        .where(ci.request_id == request_id, ci.position.in_(positions))
                        .values(cancelled=flag)
                    )
            conn.execute(
                sa.update(t.cancel_requests)
                .where(cr.id == request_id)
                .values(state=C_DONE, finished_at=self.store.now())
            )
            n = sum(1 for _, _, job in items if job in done)
            self.store.event(
                conn,
                entity="cancel",
                entity_id=request_id,
                from_state=C_PLANNED,
                to_state=C_DONE,
                reason=f"server cancelled {n} of {len(items)} call job(s); the others had "
                f"already finished",
                run_id=run_id,
            )
            for _, row_id, job in items:
                if job in done:
                    self.store.event(
                        conn,
                        entity="row",
                        entity_id=row_id,
                        from_state=SENT,
                        to_state=SENT,
                        reason=f"call job {job} cancelled (cancel request {request_id})",
                        run_id=run_id,
                    )
        return CancelRecord(requested=len(items), cancelled=n)
