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
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from pipeline.errors import KeyExpiredError, LedgerError, StaleLeaseError
from pipeline.ledger import schema as t
from pipeline.ledger.base import Holder, LedgerBase, driver_sql
from pipeline.ledger.batches import BatchWork, claim_batches, load_work
from pipeline.ledger.states import (
    B_CONFIRMED,
    B_IN_DOUBT,
    B_REJECTED,
    B_SENDABLE,
    B_SENDING,
    B_UNKNOWN,
    PLANNED,
    REJECTED,
    SENT,
)
from pipeline.redact import redact

_URL = re.compile(r"\b[a-z][a-z0-9+.-]*://\S+", re.IGNORECASE)


# Each row written once: its state, send time and job id together (a row's UPDATE rewrites the
# row and moves it when it grows, which is most of the cost of recording an outcome).
_SET_SENT = "UPDATE rows SET state = ?, sent_at = ?, job_id = ? WHERE id = ?"
_MEMBERS = "SELECT row_id FROM batch_rows WHERE batch_id = ? ORDER BY position"


def clean_error(text: str) -> str:
    """Error text safe to store: secrets masked, URLs dropped, bounded length."""
    return _URL.sub("<url>", redact(text))[:1000]


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


def _members(conn: sa.Connection, batch_id: int) -> list[int]:
    """The batch's row ids in body order (through the driver: plain ints, no result objects)."""
    cursor = conn.connection.cursor()
    try:
        cursor.execute(driver_sql(conn, _MEMBERS), (batch_id,))
        return [row_id for (row_id,) in cursor.fetchall()]
    finally:
        cursor.close()


def _mark_sent(
    conn: sa.Connection,
    row_ids: Sequence[int],
    job_ids: Sequence[str],
    now: datetime,
) -> None:
    """Rows ``sent`` at ``now``, each with its job id (same order as ``row_ids``).

    PostgreSQL: one UPDATE … FROM unnest(arrays) — every row version written once (each
    UPDATE of a row rewrites it and its index entries, ~25 µs a row there). SQLite: one
    UPDATE per row through the driver's executemany as plain tuples (SQLAlchemy's per-row
    parameter processing cost more than the UPDATEs themselves).
    """
    jobs = [str(j) for j in job_ids]
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql(
            "UPDATE rows SET state = %s, sent_at = %s, job_id = v.job_id "
            "FROM unnest(%s::text[], %s::integer[]) AS v(job_id, id) WHERE rows.id = v.id",
            (SENT, now, jobs, list(row_ids)),
        )
        return
    # The time as SQLAlchemy stores it on this dialect (text on SQLite), converted once.
    sent_at = t.rows.c.sent_at.type
    to_db = sent_at.dialect_impl(conn.dialect).bind_processor(conn.dialect)
    at = to_db(now) if to_db is not None else now
    cursor = conn.connection.cursor()
    try:
        cursor.executemany(
            driver_sql(conn, _SET_SENT),
            [(SENT, at, job, row_id) for row_id, job in zip(row_ids, jobs, strict=True)],
        )
    finally:
        cursor.close()


class SendMixin(LedgerBase):
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
            self.fence_holder(conn, lease)
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
        b = t.batches.c
        with self.transaction() as conn:
            self.fence_holder(conn, lease)
            now = self.now()
            cutoff = self.key_expiry_cutoff(now)
            found = {
                row.id: row
                for row in conn.execute(
                    sa.select(t.batches).where(b.id.in_(list(batch_ids))).with_for_update()
                )
            }
            attempts: list[int] = []
            for batch_id in batch_ids:
                attempts.append(self._mark(conn, lease, found.get(batch_id), batch_id, now, cutoff))
        return attempts

    def _mark(  # noqa: PLR0917 - private step of mark_attempts
        self,
        conn: sa.Connection,
        lease: Holder,
        batch: Any,
        batch_id: int,
        now: datetime,
        cutoff: datetime,
    ) -> int:
        if batch is None or batch.campaign_id != lease.campaign_id:
            raise LedgerError(f"batch {batch_id} is not a batch of campaign {lease.campaign_id}.")
        if batch.first_sent_at is not None and batch.first_sent_at <= cutoff:
            raise KeyExpiredError(
                f"batch {batch_id}: key {batch.request_key} was first sent at "
                f"{batch.first_sent_at.isoformat()} and may have expired on the server; "
                f"it is never sent again. Reconcile the batch instead."
            )
        check_claim(batch, lease)
        if batch.state not in B_SENDABLE:
            raise LedgerError(
                f"batch {batch_id} is {batch.state}, so it cannot be sent again; claim "
                f"sendable batches with claim_sendable() (a bug in the caller)."
            )
        attempt: int = batch.attempts + 1
        conn.execute(
            sa.update(t.batches)
            .where(t.batches.c.id == batch_id)
            .values(
                state=B_SENDING,
                attempts=attempt,
                first_sent_at=batch.first_sent_at or now,
                last_sent_at=now,
            )
        )
        self.event(
            conn,
            entity="batch",
            entity_id=batch_id,
            from_state=batch.state,
            to_state=B_SENDING,
            reason=f"attempt {attempt} with key {batch.request_key}",
            lease=lease,
            at=now,
        )
        return attempt

    def _outcome_batch(self, conn: sa.Connection, lease: Holder, batch_id: int) -> Any:
        self.fence_holder(conn, lease)
        # Locked until commit: a worker taking the batch over waits (or skips it) until this
        # outcome is in, and then finds it settled.
        batch = conn.execute(
            sa.select(t.batches).where(t.batches.c.id == batch_id).with_for_update()
        ).first()
        if batch is None or batch.campaign_id != lease.campaign_id:
            raise LedgerError(f"batch {batch_id} is not a batch of campaign {lease.campaign_id}.")
        check_claim(batch, lease)
        if batch.state not in B_IN_DOUBT:
            raise LedgerError(
                f"batch {batch_id} is {batch.state}: an outcome can only be recorded for a batch "
                f"that was sent (sending/unknown). This is a bug in the caller."
            )
        return batch

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
            for batch_id, job_ids in outcomes:
                batch = self._outcome_batch(conn, lease, batch_id)
                members = _members(conn, batch_id)
                if len(job_ids) != len(members):
                    raise LedgerError(
                        f"batch {batch_id}: the server returned {len(job_ids)} job ids for "
                        f"{len(members)} phones; nothing was recorded. Treat the outcome as "
                        f"unknown."
                    )
                _mark_sent(conn, members, job_ids, self.now())
                self._set_batch(conn, lease, batch, B_CONFIRMED, f"{len(job_ids)} jobs created")

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
