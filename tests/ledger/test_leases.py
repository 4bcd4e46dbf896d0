"""One writer per campaign: lease held, takeover after expiry, fencing of stale writers."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from pipeline.errors import ExitCode, LeaseHeldError, StaleLeaseError
from pipeline.ledger import Ledger
from tests.conftest import FakeClock
from tests.ledger.conftest import ScalarQuery, body_for, items, plan_file, start


def test_second_acquirer_is_refused_while_the_lease_lives(ledger: Ledger, clock: FakeClock) -> None:
    s = start(ledger, ttl_s=60)
    clock.advance(seconds=59)
    with pytest.raises(LeaseHeldError, match="worker-1") as info:
        ledger.leases.acquire(s.campaign_id, owner="worker-2", ttl_s=60)
    assert info.value.exit_code == ExitCode.LEASE_HELD


def test_expired_lease_is_taken_over_with_a_higher_epoch(
    ledger: Ledger, clock: FakeClock, scalar: ScalarQuery
) -> None:
    s = start(ledger, ttl_s=60)
    clock.advance(seconds=61)
    lease2 = ledger.leases.acquire(s.campaign_id, owner="worker-2", ttl_s=60)
    assert lease2.epoch == s.lease.epoch + 1
    reason = scalar("SELECT reason FROM events WHERE entity = 'lease' ORDER BY id DESC LIMIT 1")
    assert "took over the lease of 'worker-1'" in str(reason)


def test_released_lease_is_free_at_once(ledger: Ledger) -> None:
    s = start(ledger, ttl_s=600)
    ledger.leases.release(s.lease)
    lease2 = ledger.leases.acquire(s.campaign_id, owner="worker-2", ttl_s=60)
    assert lease2.epoch == 2
    ledger.leases.release(s.lease)  # a stale release is a no-op, not a takeover of worker-2
    with pytest.raises(LeaseHeldError):
        ledger.leases.acquire(s.campaign_id, owner="worker-3", ttl_s=60)


def test_renew_extends_and_keeps_others_out(ledger: Ledger, clock: FakeClock) -> None:
    s = start(ledger, ttl_s=60)
    clock.advance(seconds=50)
    renewed = ledger.leases.renew(s.lease, ttl_s=60)
    clock.advance(seconds=50)
    with pytest.raises(LeaseHeldError):
        ledger.leases.acquire(s.campaign_id, owner="worker-2", ttl_s=60)
    assert renewed.epoch == s.lease.epoch


def test_leases_are_per_campaign(ledger: Ledger) -> None:
    start(ledger, token="1.2.campaign-a")
    other = start(ledger, token="1.2.campaign-b", owner="worker-2")
    assert other.lease.epoch == 1


def test_stale_writer_is_fenced_and_changes_nothing(
    ledger: Ledger, clock: FakeClock, scalar: ScalarQuery
) -> None:
    s = start(ledger, ttl_s=60)
    plan_file(s, items(4))
    ledger.freezing.freeze_batches(s.lease, batch_size=2, body_for=body_for)
    (w1, w2) = ledger.sending.claim_sendable(s.lease, limit=5)
    ledger.sending.mark_attempt(s.lease, w1.id)
    clock.advance(seconds=61)  # worker-1 pauses (GC, suspended VM) past its lease
    lease2 = ledger.leases.acquire(s.campaign_id, owner="worker-2", ttl_s=600)
    events_before = scalar("SELECT count(*) FROM events")

    stale_writes: list[Callable[[], object]] = [
        lambda: ledger.replies.record_success(s.lease, w1.id, ["a", "b"]),
        lambda: ledger.replies.record_unknown(s.lease, w1.id, error="late"),
        lambda: ledger.replies.record_bad_row(
            s.lease, w1.id, phone=w1.items[0].phone, code="x", message="y"
        ),
        lambda: ledger.replies.record_rejected(s.lease, w1.id, code="x", message="y"),
        lambda: ledger.sending.mark_attempt(s.lease, w2.id),
        lambda: ledger.sending.claim_sendable(s.lease, limit=5),
        lambda: ledger.freezing.freeze_batches(s.lease, batch_size=2, body_for=body_for),
        lambda: ledger.leases.renew(s.lease, ttl_s=60),
        lambda: ledger.inputs.begin(s.lease, name="x.csv", sha256="ef" * 32),
    ]
    for write in stale_writes:
        with pytest.raises(StaleLeaseError, match="was refused and nothing changed"):
            write()
    assert scalar("SELECT count(*) FROM events") == events_before
    assert scalar(f"SELECT state FROM batches WHERE id = {w1.id}") == "sending"
    assert scalar("SELECT count(*) FROM rows WHERE job_id IS NOT NULL") == 0
    assert scalar("SELECT owner FROM leases") == "worker-2"
    # The new owner takes the batch in doubt over (same key, key still fresh).
    claimed = ledger.sending.claim_sendable(lease2, limit=5)
    assert {w.id for w in claimed} == {w1.id, w2.id}
    ledger.sending.mark_attempt(lease2, w1.id)
    ledger.replies.record_success(lease2, w1.id, ["a", "b"])
