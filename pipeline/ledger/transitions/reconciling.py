"""Reconciliation: batches in doubt whose key may have expired on the server.

Usage::

    for work in ledger.reconciling.claim_expired(lease, limit=50):
        jobs = lookup_jobs_by_phone(work.items, since=work.first_sent_at)   # the uploader's part
        found = {row_id: job_id for row_id, job_id in ...}                   # rows seen on server
        new_batch = ledger.reconciling.reconcile_batch(
            lease, work.id, found=found, body_for=encode_add_phones,
            reason="getReport by phone after key expiry")

Before a lookup the uploader asks which of the batch's phones are also in a batch it may still
resend under a fresh key (``phones_in_fresh_doubt``: postpone), and after it which of the jobs
found already belong to a ledger row (``owned_job_ids``: never adopted twice).

Rows found on the server are adopted (sent, with the found job id); the rest are frozen at once
into a new batch with generation + 1 and a fresh key, so only what is truly missing is sent.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import Any

import sqlalchemy as sa

from pipeline.errors import LedgerError
from pipeline.ledger.sharing.claims import check_claim, claim_batches
from pipeline.ledger.sharing.holders import Lease, fence, live_worker
from pipeline.ledger.store import schema as t
from pipeline.ledger.store.database import Store
from pipeline.ledger.store.states import B_IN_DOUBT, B_PLANNED, B_RECONCILED, B_REFRESHED, SENT
from pipeline.ledger.transitions.batches import insert_batch, load_rows, load_work
from pipeline.ledger.transitions.bodies import BatchWork, BodyFor


class Reconciling:
    """``ledger.reconciling``: batches in doubt whose key may have expired, settled."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def claim_expired(self, lease: Lease, *, limit: int) -> list[BatchWork]:
        """Batches in doubt (sending/unknown) whose key may have expired: reconcile these."""
        b = t.batches.c
        with self.store.transaction() as conn:
            fence(conn, lease, now=self.store.now)
            now = self.store.now()
            chosen = claim_batches(
                conn,
                lease,
                b.state.in_(B_IN_DOUBT),
                b.first_sent_at <= self.store.key_expiry_cutoff(now),
                now=now,
                limit=limit,
            )
            return [load_work(conn, c) for c in chosen]

    def reconcile_batch(
        self,
        lease: Lease,
        batch_id: int,
        *,
        found: Mapping[int, str],
        body_for: BodyFor,
        reason: str,
    ) -> int | None:
        """Adopt ``found`` (row id → job id); refresh the rest. Returns the new batch id or None.

        One transaction: adopted rows become ``sent`` (one event each, with ``reason``); the
        missing rows move to a new batch (generation + 1, new key, parent = this batch); this
        batch ends ``reconciled`` (all found) or ``refreshed``.
        """
        b = t.batches.c
        with self.store.transaction() as conn:
            fence(conn, lease, now=self.store.now)
            now = self.store.now()
            # Locked, and still ours: a sharing worker whose clock is behind may think the key
            # fresh and have claimed the batch to resend it meanwhile — then we must not
            # refresh its rows under a new key.
            batch: Any = conn.execute(
                sa.select(t.batches).where(b.id == batch_id).with_for_update()
            ).first()
            if batch is None or batch.campaign_id != lease.campaign_id:
                raise LedgerError(
                    f"batch {batch_id} is not a batch of campaign {lease.campaign_id}."
                )
            check_claim(batch, lease)
            if batch.state not in B_IN_DOUBT:
                raise LedgerError(
                    f"batch {batch_id} is {batch.state}; only batches in doubt are reconciled."
                )
            if batch.first_sent_at is None or batch.first_sent_at > self.store.key_expiry_cutoff(
                now
            ):
                raise LedgerError(
                    f"batch {batch_id}: its key is still valid; resend it under the same key "
                    f"instead of reconciling (that cannot create duplicates)."
                )
            rows = load_rows(conn, batch_id)
            strangers = set(found) - {r.id for r in rows}
            if strangers:
                raise LedgerError(f"batch {batch_id}: rows {sorted(strangers)[:10]} are not in it.")
            for row in rows:
                if row.id in found:
                    conn.execute(
                        sa.update(t.rows)
                        .where(t.rows.c.id == row.id)
                        .values(state=SENT, job_id=str(found[row.id]), sent_at=now)
                    )
                    self.store.event(
                        conn,
                        entity="row",
                        entity_id=row.id,
                        from_state="batched",
                        to_state=SENT,
                        reason=f"adopted job {found[row.id]} of batch {batch_id}: {reason}",
                        by=lease,
                        at=now,
                    )
            missing = [r for r in rows if r.id not in found]
            new_id: int | None = None
            if missing:
                new_id, key, gen = insert_batch(
                    conn,
                    campaign_id=lease.campaign_id,
                    rows=missing,
                    body_for=body_for,
                    now=now,
                    generation=batch.generation + 1,
                    parent_id=batch_id,
                )
                self.store.event(
                    conn,
                    entity="batch",
                    entity_id=new_id,
                    from_state=None,
                    to_state=B_PLANNED,
                    reason=(
                        f"refresh of batch {batch_id}: {len(missing)} row(s) not found on the "
                        f"server, new key {key}, generation {gen}: {reason}"
                    ),
                    by=lease,
                    at=now,
                )
            state = B_REFRESHED if missing else B_RECONCILED
            conn.execute(
                sa.update(t.batches).where(b.id == batch_id).values(state=state, finished_at=now)
            )
            self.store.event(
                conn,
                entity="batch",
                entity_id=batch_id,
                from_state=batch.state,
                to_state=state,
                reason=(
                    f"key expired; {len(found)} row(s) adopted, {len(missing)} refreshed"
                    f"{f' into batch {new_id}' if new_id else ''}: {reason}"
                ),
                by=lease,
                at=now,
            )
        return new_id

    def hold_planned(self, lease: Lease, phones: Collection[str]) -> list[int] | None:
        """Claim every planned batch holding one of ``phones`` for the lease, while one batch
        with those phones is reconciled; returns their ids, or None when one is already
        claimed by a live worker or locked (nothing held: postpone the reconciliation).

        Why: a job a sharing worker creates for such a batch during our report lookup would
        look exactly like the job we are looking for (same phone, created after the first
        send) and be adopted for the wrong row. Held batches are skipped by every worker (a
        live claim) until :meth:`release_held`.
        """
        b, br, r = t.batches.c, t.batch_rows.c, t.rows.c
        wanted = sorted(set(phones))
        with self.store.transaction() as conn:
            fence(conn, lease, now=self.store.now)
            now = self.store.now()
            ids: set[int] = set()
            for n in range(0, len(wanted), 500):
                with_phone = (
                    sa.select(br.batch_id)
                    .join(t.rows, r.id == br.row_id)
                    .where(r.phone.in_(wanted[n : n + 500]))
                )
                ids.update(
                    conn.execute(
                        sa.select(b.id).where(
                            b.campaign_id == lease.campaign_id,
                            b.state == B_PLANNED,
                            b.id.in_(with_phone),
                        )
                    ).scalars()
                )
            if not ids:
                return []
            free = (
                conn.execute(
                    sa.select(b.id)
                    .where(
                        b.id.in_(sorted(ids)),
                        b.state == B_PLANNED,
                        sa.or_(
                            b.claim_owner.is_(None),
                            sa.and_(b.claim_owner == lease.owner, b.claim_epoch == lease.epoch),
                            ~live_worker(b.claim_owner, now),
                        ),
                    )
                    .with_for_update(skip_locked=True)
                )
                .scalars()
                .all()
            )
            if len(free) != len(ids):
                return None  # claimed by a live worker, or being claimed right now
            conn.execute(
                sa.update(t.batches)
                .where(b.id.in_(free))
                .values(claim_owner=lease.owner, claim_epoch=lease.epoch)
            )
            return sorted(free)

    def release_held(self, lease: Lease, batch_ids: Sequence[int]) -> None:
        """Give back the batches :meth:`hold_planned` held (those still planned and ours)."""
        if not batch_ids:
            return
        b = t.batches.c
        with self.store.transaction() as conn:
            fence(conn, lease, now=self.store.now)
            conn.execute(
                sa.update(t.batches)
                .where(
                    b.id.in_(list(batch_ids)),
                    b.state == B_PLANNED,
                    b.claim_owner == lease.owner,
                    b.claim_epoch == lease.epoch,
                )
                .values(claim_owner=None, claim_epoch=None)
            )

    def phones_in_fresh_doubt(self, campaign_id: int, phones: Collection[str]) -> set[str]:
        """Those of ``phones`` in in-doubt batches whose key may still be resent (not expired)."""
        b, br, r = t.batches.c, t.batch_rows.c, t.rows.c
        cutoff = self.store.key_expiry_cutoff(self.store.now())
        wanted = sorted(phones)
        found: set[str] = set()
        with self.store.engine.connect() as conn:
            for n in range(0, len(wanted), 500):
                query = (
                    sa.select(r.phone)
                    .join(t.batch_rows, br.row_id == r.id)
                    .join(t.batches, b.id == br.batch_id)
                    .where(
                        b.campaign_id == campaign_id,
                        b.state.in_(B_IN_DOUBT),
                        b.first_sent_at > cutoff,
                        r.phone.in_(wanted[n : n + 500]),
                    )
                    .distinct()
                )
                found.update(phone for phone in conn.execute(query).scalars() if phone)
        return found

    def owned_job_ids(self, campaign_id: int, job_ids: Collection[str]) -> set[str]:
        """Those of ``job_ids`` that a ledger row of the campaign already carries."""
        ids = sorted(job_ids)
        owned: set[str] = set()
        r = t.rows.c
        with self.store.engine.connect() as conn:
            for n in range(0, len(ids), 500):
                query = sa.select(r.job_id).where(
                    r.campaign_id == campaign_id, r.job_id.in_(ids[n : n + 500])
                )
                owned.update(conn.execute(query).scalars())
        return owned
