"""Sending: claim fresh batches, record the intent before each send, record each outcome.

Usage (one batch; the HTTP call happens outside any transaction)::

    for work in ledger.claim_sendable(lease, limit=8):
        body = work.body(encode_add_phones)            # digest checked
        ledger.mark_attempt(lease, work.id)            # durable before the first byte
        try:
            ids = client.add_phones_body(body, idempotence_key=work.request_key)
        except TransientApiError as exc:
            ledger.record_unknown(lease, work.id, error=str(exc))
        except BadRequestError as exc:
            if exc.phone: ledger.record_bad_row(lease, work.id, phone=exc.phone, ...)
            else:         ledger.record_rejected(lease, work.id, code=exc.error_type, ...)
        else:
            ledger.record_success(lease, work.id, ids)

``claim_sendable`` never returns a batch whose key may have expired; ``mark_attempt`` checks
again inside its transaction and raises :class:`~pipeline.errors.KeyExpiredError`.
``mark_attempts`` and ``record_successes`` do the same for a group of batches in one
transaction each (one flush for all).

The statements and checks behind these operations are in :mod:`pipeline.ledger.sendsql`
(``check_claim`` and ``clean_error`` are imported from here by reconciliation too).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from pipeline.errors import LedgerError
from pipeline.ledger.batches import BatchWork, load_work
from pipeline.ledger.sendsql import (
    CONFIRM,
    MARK,
    check_sendable,
    mark_sent,
    members,
)
from pipeline.ledger.sharing.claims import check_in_doubt, claim_batches, locked_batches
from pipeline.ledger.sharing.holders import Holder, fence
from pipeline.ledger.store import schema as t
from pipeline.ledger.store.database import Store, clean_error, db_value, executemany
from pipeline.ledger.store.states import (
    B_CONFIRMED,
    B_REJECTED,
    B_SENDABLE,
    B_SENDING,
    B_UNKNOWN,
    PLANNED,
    REJECTED,
)


class SendMixin(Store):
    """Send-side operations of the :class:`~pipeline.ledger.Ledger`."""

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
        with self.transaction(durable=False) as conn:
            fence(conn, lease, now=self.now)
            now = self.now()
            cutoff = self.key_expiry_cutoff(now)
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
            fresh = self.fresh_rows
            return [load_work(conn, c, known=fresh.pop(c.id, None)) for c in chosen]

    def mark_attempt(self, lease: Holder, batch_id: int) -> int:
        """Durably record that the batch is about to be sent; returns the attempt number."""
        return self.mark_attempts(lease, [batch_id])[0]

    def mark_attempts(self, lease: Holder, batch_ids: Sequence[int]) -> list[int]:
        """:meth:`mark_attempt` for several batches in ONE durable transaction: one flush for
        all their intents, before any of them is sent. Returns the attempt numbers in order.

        All or nothing: if the key of any of them may have expired meanwhile,
        :class:`KeyExpiredError` and none is marked (mark them one by one to sort them out).
        """
        with self.transaction() as conn:
            fence(conn, lease, now=self.now)
            now = self.now()
            cutoff = self.key_expiry_cutoff(now)
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
            executemany(conn, MARK, updates)
            self.events(conn, events, lease=lease, at=now)
        return attempts

    def _outcome_batch(self, conn: sa.Connection, lease: Holder, batch_id: int) -> Any:
        fence(conn, lease, now=self.now)
        # Locked until commit: a worker taking the batch over waits (or skips it) until this
        # outcome is in, and then finds it settled.
        return check_in_doubt(locked_batches(conn, [batch_id]).get(batch_id), batch_id, lease)

    def _set_batch(
        self,
        conn: sa.Connection,
        lease: Holder,
        batch: Any,
        state: str,
        why: str,
        *,
        error: str | None = None,
        finished: bool = True,
    ) -> None:
        now = self.now()
        values: dict[str, object] = {"state": state}
        if finished:
            values["finished_at"] = now
        if error is not None:
            values["last_error"] = error
        conn.execute(sa.update(t.batches).where(t.batches.c.id == batch.id).values(**values))
        self.event(
            conn,
            entity="batch",
            entity_id=batch.id,
            from_state=batch.state,
            to_state=state,
            reason=why,
            lease=lease,
            at=now,
        )

    def record_success(self, lease: Holder, batch_id: int, job_ids: Sequence[str]) -> None:
        """The server created the jobs: each row gets its job id, the batch is confirmed."""
        self.record_successes(lease, [(batch_id, job_ids)])

    def record_successes(
        self, lease: Holder, outcomes: Sequence[tuple[int, Sequence[str]]]
    ) -> None:
        """:meth:`record_success` for several batches (batch id, job ids) in ONE durable
        transaction; all or nothing (a wrong number of job ids records none of them)."""
        with self.transaction() as conn:
            fence(conn, lease, now=self.now)
            ids = [batch_id for batch_id, _jobs in outcomes]
            # Locked until commit: a worker taking a batch over waits (or skips it) until this
            # outcome is in, and then finds it settled.
            found = locked_batches(conn, ids)
            rows_of = members(conn, ids)
            now = self.now()
            row_ids: list[int] = []
            jobs: list[str] = []
            events: list[tuple[str, int, str | None, str | None, str]] = []
            for batch_id, job_ids in outcomes:
                batch = check_in_doubt(found.get(batch_id), batch_id, lease)
                rows = rows_of.get(batch_id, [])
                if len(job_ids) != len(rows):
                    raise LedgerError(
                        f"batch {batch_id}: the server returned {len(job_ids)} job ids for "
                        f"{len(rows)} phones; nothing was recorded. Treat the outcome as "
                        f"unknown."
                    )
                row_ids += rows
                jobs += job_ids
                reason = f"{len(job_ids)} jobs created"
                events.append(("batch", batch_id, batch.state, B_CONFIRMED, reason))
            mark_sent(conn, row_ids, jobs, now)
            finished = db_value(conn, t.batches.c.finished_at, now)
            executemany(conn, CONFIRM, [(B_CONFIRMED, finished, batch_id) for batch_id in ids])
            self.events(conn, events, lease=lease, at=now)

    def record_unknown(self, lease: Holder, batch_id: int, *, error: str) -> None:
        """The send failed in a way that may or may not have created jobs (transient error)."""
        with self.transaction() as conn:
            batch = self._outcome_batch(conn, lease, batch_id)
            text = clean_error(error)
            self._set_batch(
                conn,
                lease,
                batch,
                B_UNKNOWN,
                f"outcome unknown: {text}",
                error=text,
                finished=False,
            )

    def record_rejected(self, lease: Holder, batch_id: int, *, code: str, message: str) -> None:
        """HTTP 400 for the whole batch (nothing created): every row rejected with the reason."""
        with self.transaction() as conn:
            batch = self._outcome_batch(conn, lease, batch_id)
            text = clean_error(message)
            conn.execute(
                sa.update(t.rows)
                .where(t.rows.c.batch_id == batch_id)
                .values(state=REJECTED, reason_code=code, reason=text)
            )
            self._set_batch(
                conn,
                lease,
                batch,
                B_REJECTED,
                f"rejected by the server: {code}: {text}",
                error=text,
            )

    def record_bad_row(
        self, lease: Holder, batch_id: int, *, phone: str, code: str, message: str
    ) -> int:
        """HTTP 400 naming one phone: its rows rejected, the others back to planned.

        Nothing was created, so the batch becomes ``rejected`` and its key is never used
        again; the other rows are frozen into new batches (new keys) by the next
        :meth:`freeze_batches`. Returns how many rows went back to planned.
        """
        with self.transaction() as conn:
            batch = self._outcome_batch(conn, lease, batch_id)
            text = clean_error(message)
            r = t.rows.c
            bad = conn.execute(
                sa.update(t.rows)
                .where(r.batch_id == batch_id, r.phone == phone)
                .values(state=REJECTED, reason_code=code, reason=text)
            ).rowcount
            if bad == 0:
                raise LedgerError(
                    f"batch {batch_id}: the server named phone {phone[:4]}… ({code}) but no row "
                    f"of the batch has it; nothing was changed. Record the whole batch as "
                    f"rejected or unknown instead."
                )
            back = conn.execute(
                sa.update(t.rows)
                .where(r.batch_id == batch_id, r.state != REJECTED)
                .values(state=PLANNED, batch_id=None)
            ).rowcount
            self._set_batch(
                conn,
                lease,
                batch,
                B_REJECTED,
                f"server rejected {bad} row(s) ({code}: {text}); {back} row(s) back to planned",
                error=text,
            )
        return int(back)
