"""Several workers on one campaign: disjoint claims, takeover after expiry, fencing of a worker
that slept past its lease, and the questions a sharing worker asks before it ends.

Each test runs on SQLite and on PostgreSQL; the concurrent-claim test needs PostgreSQL's row
locks (SQLite serialises writers, so there it only checks the sequential case)."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest

from pipeline.errors import LedgerError, StaleLeaseError
from pipeline.ledger import BatchWork, Ledger, Worker, open_ledger
from tests.conftest import FakeClock
from tests.ledger.conftest import ScalarQuery, Setup, body_for, items, plan_file, start


def _frozen(ledger: Ledger, rows: int, batch_size: int) -> Setup:
    """A campaign with ``rows`` rows frozen into batches, its lease released (only workers)."""
    s = start(ledger)
    plan_file(s, items(rows))
    ledger.freezing.freeze_batches(s.lease, batch_size=batch_size, body_for=body_for)
    ledger.leases.release(s.lease)
    return s


def _join(ledger: Ledger, s: Setup, owner: str, ttl_s: float = 60) -> Worker:
    return ledger.workers.register(s.campaign_id, owner=owner, ttl_s=ttl_s, run_id=s.run_id)


def _send(ledger: Ledger, who: Worker, work: BatchWork) -> None:
    ledger.sending.mark_attempt(who, work.id)
    ledger.replies.record_success(who, work.id, [f"job-{r.id}" for r in work.rows])


def test_workers_claim_disjoint_batches_and_each_sends_its_own(ledger: Ledger) -> None:
    s = _frozen(ledger, rows=12, batch_size=2)  # 6 batches
    a, b = _join(ledger, s, "host:1:a"), _join(ledger, s, "host:2:b")
    assert b.epoch > a.epoch  # the fencing token grows with every worker
    got_a = ledger.sending.claim_sendable(a, limit=3)
    got_b = ledger.sending.claim_sendable(b, limit=10)
    assert len(got_a) == 3 and len(got_b) == 3
    assert not {w.id for w in got_a} & {w.id for w in got_b}
    assert ledger.sending.claim_sendable(a, limit=10) == []  # b's claims are live: not offered to a
    for work in got_a:
        _send(ledger, a, work)
    # b cannot record an outcome for a batch a claimed, nor start sending it
    with pytest.raises(StaleLeaseError, match="taken over"):
        ledger.sending.mark_attempt(b, got_a[0].id)
    for work in got_b:
        _send(ledger, b, work)


def test_an_expired_workers_batch_is_taken_over_and_its_late_writes_are_refused(
    ledger: Ledger, clock: FakeClock, scalar: ScalarQuery
) -> None:
    s = _frozen(ledger, rows=4, batch_size=2)
    sleeper = _join(ledger, s, "host:1:sleeper", ttl_s=30)
    (w1, w2) = ledger.sending.claim_sendable(sleeper, limit=5)
    ledger.sending.mark_attempt(
        sleeper, w1.id
    )  # the request is on the wire when the process freezes
    clock.advance(seconds=20)
    awake = _join(ledger, s, "host:2:awake", ttl_s=600)
    assert (
        ledger.sending.claim_sendable(awake, limit=5) == []
    )  # the sleeper is still live: hands off
    assert ledger.workers.others_in_flight(awake) == 2

    clock.advance(seconds=11)  # now past the sleeper's expiry
    assert ledger.workers.others_in_flight(awake) == 0
    taken = ledger.sending.claim_sendable(awake, limit=5)
    assert {w.id for w in taken} == {w1.id, w2.id}
    assert {w.request_key for w in taken} == {w1.request_key, w2.request_key}  # same keys
    events_before = scalar("SELECT count(*) FROM events")

    late: list[Callable[[], object]] = [
        lambda: ledger.replies.record_success(sleeper, w1.id, ["x", "y"]),
        lambda: ledger.replies.record_unknown(sleeper, w1.id, error="late"),
        lambda: ledger.sending.mark_attempt(sleeper, w2.id),
        lambda: ledger.sending.claim_sendable(sleeper, limit=5),
        lambda: ledger.workers.renew(sleeper, ttl_s=30),  # expiry is final
        lambda: ledger.workers.check(sleeper),
    ]
    for write in late:
        with pytest.raises(StaleLeaseError, match="refused and nothing changed"):
            write()
    assert scalar("SELECT count(*) FROM events") == events_before
    assert scalar("SELECT count(*) FROM rows WHERE job_id IS NOT NULL") == 0

    for work in taken:
        _send(ledger, awake, work)
    assert scalar("SELECT count(*) FROM batches WHERE state = 'confirmed'") == 2
    assert scalar(f"SELECT count(*) FROM batches WHERE claim_owner = '{awake.owner}'") == 2


def test_a_stale_worker_that_is_not_expired_but_lost_its_claim_is_refused(
    ledger: Ledger, clock: FakeClock
) -> None:
    # The sleeper renewed (it is live again) after someone took its batch when it had expired:
    # not possible — renewal after expiry is refused. But a worker ended by its own run's
    # end cannot write either, and a batch claimed by another is refused even to a live worker.
    s = _frozen(ledger, rows=2, batch_size=2)
    a = _join(ledger, s, "host:1:a", ttl_s=30)
    (work,) = ledger.sending.claim_sendable(a, limit=5)
    ledger.workers.end(a)
    b = _join(ledger, s, "host:2:b")
    (again,) = ledger.sending.claim_sendable(
        b, limit=5
    )  # an ended worker's claims are free at once
    assert again.id == work.id
    with pytest.raises(StaleLeaseError):
        ledger.sending.mark_attempt(a, work.id)
    _send(ledger, b, again)


def test_reaping_frees_the_claims_of_a_dead_process_before_its_expiry(
    ledger: Ledger, scalar: ScalarQuery
) -> None:
    s = _frozen(ledger, rows=4, batch_size=2)
    dead = _join(ledger, s, "host:111:dead", ttl_s=600)
    alive = _join(ledger, s, "host:222:alive", ttl_s=600)
    claimed = ledger.sending.claim_sendable(dead, limit=1)
    ledger.sending.mark_attempt(dead, claimed[0].id)
    me = _join(ledger, s, "host:333:me")
    assert ledger.workers.others_in_flight(me) == 1

    assert ledger.workers.reap(s.campaign_id, owner_is_dead=lambda o: o == dead.owner) == 1
    assert ledger.workers.others_in_flight(me) == 0
    assert {w.id for w in ledger.sending.claim_sendable(me, limit=5)} == {1, 2}
    still_live = scalar(f"SELECT ended_at IS NULL FROM workers WHERE owner = '{alive.owner}'")
    assert still_live in (1, True)
    reason = scalar("SELECT reason FROM events WHERE entity = 'worker' ORDER BY id DESC LIMIT 1")
    assert "is gone" in str(reason)


def test_a_worker_does_not_claim_again_what_it_gave_up_on_in_this_run(ledger: Ledger) -> None:
    s = _frozen(ledger, rows=4, batch_size=2)
    a = _join(ledger, s, "host:1:a")
    work = ledger.sending.claim_sendable(a, limit=1)[0]
    ledger.sending.mark_attempt(a, work.id)
    ledger.replies.record_unknown(a, work.id, error="503")
    assert ledger.sending.claim_sendable(a, limit=1)[0].id != work.id
    # Between two attempts (or after giving up) a's unknown batch is in flight for a peer
    # with nothing of its own in doubt: it waits rather than ending with "work left".
    b = _join(ledger, s, "host:2:b")
    assert ledger.workers.others_in_flight(b) == 2  # a's unknown batch and a's claimed planned one
    ledger.workers.end(a)
    c = _join(ledger, s, "host:3:c")
    assert sorted(w.id for w in ledger.sending.claim_sendable(c, limit=5)) == [1, 2]


def test_two_workers_that_each_gave_up_on_a_batch_do_not_wait_for_each_other(
    ledger: Ledger,
) -> None:
    s = _frozen(ledger, rows=4, batch_size=2)
    a, b = _join(ledger, s, "host:1:a"), _join(ledger, s, "host:2:b")
    for who in (a, b):
        (work,) = ledger.sending.claim_sendable(who, limit=1)
        ledger.sending.mark_attempt(who, work.id)
        ledger.replies.record_unknown(who, work.id, error="503")
    assert ledger.workers.others_in_flight(a) == 0
    assert ledger.workers.others_in_flight(b) == 0


def test_planned_rows_counts_rows_waiting_to_be_frozen(ledger: Ledger) -> None:
    s = start(ledger)
    plan_file(s, items(5))
    assert ledger.freezing.planned_rows(s.campaign_id) == 5
    ledger.freezing.freeze_batches(s.lease, batch_size=2, body_for=body_for)
    assert ledger.freezing.planned_rows(s.campaign_id) == 0


def test_concurrent_claims_never_share_a_batch(ledger_url: str, clock: FakeClock) -> None:
    """Eight threads, each with its own connection pool, claim at once: every batch once."""
    with open_ledger(ledger_url, clock=clock, key_safety_margin_s=3600) as setup_ledger:
        s = _frozen(setup_ledger, rows=200, batch_size=2)  # 100 batches
        campaign_id, run_id = s.campaign_id, s.run_id
    claimed: dict[str, list[int]] = {}
    errors: list[BaseException] = []
    barrier = threading.Barrier(8)

    def claim(n: int) -> None:
        try:
            with open_ledger(ledger_url, clock=clock, key_safety_margin_s=3600) as led:
                me = led.workers.register(campaign_id, owner=f"h:{n}:w", ttl_s=60, run_id=run_id)
                mine = claimed.setdefault(me.owner, [])
                barrier.wait()
                for _ in range(200):  # bounded: a claim that repeats batches must not spin
                    works = led.sending.claim_sendable(me, limit=3)
                    if not works:
                        break
                    mine.extend(w.id for w in works)
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=claim, args=(n,)) for n in range(8)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    if (
        errors
        and ledger_url.startswith("sqlite")
        and all(isinstance(e, LedgerError) and "locked" in str(e) for e in errors)
    ):
        pytest.fail(f"SQLite writers did not wait for each other: {errors[0]}")
    assert not errors, errors[0]
    every = [bid for ids in claimed.values() for bid in ids]
    assert sorted(every) == list(range(1, 101))  # each batch claimed exactly once
