"""Claims of lease holders beside sharing workers (PostgreSQL): the ``reconcile`` command and
an ``upload`` with ``share_work: false`` hold the campaign lease, not a sharing worker's place.

``claim_batches`` protects a claim only while its owner is a live row of ``workers``, so every
lease holder registers a worker row under its lease's owner name (``run_upload``,
``run_reconcile``) and ``reconcile_batch`` refuses a batch whose claim is no longer its own.
These tests replay the races found in review with the ledger API, each step where it hurt.

PostgreSQL only: on SQLite the lease keeps one run at a time.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from pipeline.errors import LedgerError
from pipeline.ledger import Ledger, open_ledger
from pipeline.ledger.store.states import KEY_LIFETIME_S
from tests.conftest import FakeClock
from tests.ledger.conftest import body_for, items, plan_file, start

MARGIN_S = 3600.0  # upload.key_safety_margin_s (the default)


def _offset_clock(base: FakeClock, seconds: float) -> FakeClock:
    """A second host's clock: ``base`` shifted by ``seconds`` (it moves when ``base`` moves)."""

    class Shifted(FakeClock):
        def __call__(self) -> datetime:
            return base.now + timedelta(seconds=seconds)

    return Shifted(base.now)


def test_a_worker_does_not_take_a_batch_the_reconcile_command_is_reconciling(
    pg_url: str,
) -> None:
    """Duplicate call: the reconcile command's claim is taken by a worker whose clock is behind.

    1. Batch X was sent once and its outcome is unknown (the request never reached the server).
    2. ``jaicp-pipeline reconcile`` (host R) takes the campaign lease and claims X: by R's clock
       X's key is past the cutoff (24 h - margin).
    3. A sharing upload on host W, whose clock is 2 minutes behind R's (well inside the 1 h
       margin meant for skew), polls: by its clock X's key is still fresh, and X's claim owner
       (R's lease owner) is no live *worker*, so W claims X and marks an attempt: it is about
       to send X's rows under the old key K.
    4. R's getReport found nothing, so ``reconcile_batch`` moves X's rows into a new batch under
       a new key K2 (it does not check that X is still claimed by R).
    Now X's rows are sendable under K (W, on the wire) and K2 (the next claimer): K was never
    used on the server, so both create jobs — every row of X called twice.
    """
    clock_r = FakeClock(datetime(2026, 3, 1, 9, 0, tzinfo=UTC))
    cutoff_age = KEY_LIFETIME_S - MARGIN_S
    with open_ledger(pg_url, clock=clock_r, key_safety_margin_s=MARGIN_S) as setup:
        # First (and only) send of X a minute beyond R's cutoff, inside W's (2 min behind).
        clock_r.now -= timedelta(seconds=cutoff_age + 60)
        s = start(setup, owner="upload-host:100:first", ttl_s=600)
        plan_file(s, items(3))
        setup.freezing.freeze_batches(s.lease, batch_size=3, body_for=body_for)
        (x,) = setup.sending.claim_sendable(s.lease, limit=5)
        setup.sending.mark_attempt(s.lease, x.id)
        setup.replies.record_unknown(s.lease, x.id, error="connection reset")
        setup.leases.release(s.lease)
        clock_r.now += timedelta(seconds=cutoff_age + 60)

    clock_w = _offset_clock(clock_r, -120)
    ledger_r: Ledger = open_ledger(pg_url, clock=clock_r, key_safety_margin_s=MARGIN_S)
    ledger_w: Ledger = open_ledger(pg_url, clock=clock_w, key_safety_margin_s=MARGIN_S)
    try:
        # 2. the reconcile command: lease under its own owner name, then claim_expired.
        lease_r = ledger_r.leases.acquire(s.campaign_id, owner="reconcile-host:7:r", ttl_s=120)
        # as run_reconcile does: a worker row under the lease's owner (its claims are live)
        ledger_r.workers.register(s.campaign_id, owner=lease_r.owner, ttl_s=120)
        assert [w.id for w in ledger_r.reconciling.claim_expired(lease_r, limit=20)] == [x.id]

        # 3. a sharing worker on a host whose clock is 2 minutes behind.
        worker = ledger_w.workers.register(s.campaign_id, owner="upload-host:200:w", ttl_s=120)
        old_key_in_flight = False
        try:
            stolen = ledger_w.sending.claim_sendable(worker, limit=5)
            if x.id in {w.id for w in stolen}:
                ledger_w.sending.mark_attempt(worker, x.id)  # durable intent: the send follows
                old_key_in_flight = True
        except LedgerError:
            pass  # refused: the fix

        # 4. R finds no job for X's phones and refreshes them under a new key.
        refreshed = False
        try:
            new_batch = ledger_r.reconciling.reconcile_batch(
                lease_r, x.id, found={}, body_for=body_for, reason="getReport found nothing"
            )
            refreshed = new_batch is not None
        except LedgerError:
            pass  # refused: the other possible fix

        assert not (old_key_in_flight and refreshed), (
            f"batch {x.id}'s rows are being sent under their old key {x.request_key} by the "
            f"worker AND were refreshed under a new key by the reconcile command: each row of "
            f"the batch gets two jobs when neither key was used before"
        )
    finally:
        ledger_r.close()
        ledger_w.close()


def test_a_worker_does_not_take_a_batch_a_non_sharing_lease_holder_is_sending(
    pg_url: str,
) -> None:
    """Misleading exit 5 (and the one-run-at-a-time promise of ``share_work: false`` broken).

    An upload with ``share_work: false`` holds the campaign lease, claimed batch B and recorded
    its intent: its request is on the wire. A sharing upload on another host (config left at
    the default) starts now: it does not exit 5 — it joins as a worker and, since the holder
    is not a live *worker*, takes B over and sends it again under the same key. The lease
    holder's reply is then refused ("Another run now owns the campaign: stop this one") and it
    exits 5 although it holds the lease.
    """
    clock = FakeClock(datetime(2026, 3, 1, 9, 0, tzinfo=UTC))
    with open_ledger(pg_url, clock=clock, key_safety_margin_s=MARGIN_S) as ledger:
        s = start(ledger, owner="cron-host:100:noshare", ttl_s=600)  # share_work: false
        # What run_upload (and run_reconcile) do beside taking the lease: a worker row under
        # the lease's owner name, so that sharing runs see the holder's claims as live.
        ledger.workers.register(s.campaign_id, owner=s.lease.owner, ttl_s=600, run_id=s.run_id)
        plan_file(s, items(4))
        ledger.freezing.freeze_batches(s.lease, batch_size=2, body_for=body_for)
        (b, _second) = ledger.sending.claim_sendable(s.lease, limit=2)
        ledger.sending.mark_attempt(s.lease, b.id)  # on the wire now

        worker = ledger.workers.register(s.campaign_id, owner="other-host:200:w", ttl_s=600)
        taken = {w.id for w in ledger.sending.claim_sendable(worker, limit=5)}

        assert b.id not in taken, (
            f"a sharing worker took batch {b.id} from the live lease holder while its request "
            f"was on the wire"
        )
        # The holder's reply must still be recordable.
        ledger.replies.record_success(s.lease, b.id, [f"job-{r.id}" for r in b.rows])
