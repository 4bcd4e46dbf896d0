"""Every row and batch transition, each one transaction with its audit event."""

from __future__ import annotations

import pytest

from pipeline.errors import KeyExpiredError, LedgerError
from pipeline.ledger import Ledger
from pipeline.ledger.store.keys import body_digest
from pipeline.records import CallItem, Duplicate, Rejection
from tests.conftest import FakeClock
from tests.ledger.conftest import ColumnQuery, ScalarQuery, body_for, items, plan_file, start


def test_plan_records_every_row_in_exactly_one_state(ledger: Ledger, scalar: ScalarQuery) -> None:
    s = start(ledger)
    records: list[CallItem | Rejection | Duplicate] = [
        *items(3),
        Rejection(4, "phone", "phone_invalid", "not a phone number"),
        Duplicate(5, 2),
    ]
    input_id = plan_file(s, records)
    assert scalar("SELECT count(*) FROM rows WHERE state = 'planned'") == 3
    assert scalar("SELECT reason FROM rows WHERE row_number = 4") == "phone: not a phone number"
    original = scalar(f"SELECT id FROM rows WHERE input_id = {input_id} AND row_number = 2")
    assert scalar("SELECT duplicate_of FROM rows WHERE row_number = 5") == original
    assert scalar("SELECT rows_total FROM inputs") == 5
    assert scalar("SELECT count(*) FROM events WHERE entity = 'input'") == 3  # begin, chunk, done


def test_freeze_keeps_phones_unique_per_batch_and_stores_digest(
    ledger: Ledger, scalar: ScalarQuery
) -> None:
    s = start(ledger)
    same_phone = [CallItem(row=i + 1, phone="79160000001", payload={"n": i}) for i in range(3)]
    plan_file(s, [*same_phone, *items(3, start_row=4)])
    ids = ledger.freezing.freeze_batches(s.lease, batch_size=3, body_for=body_for)
    assert len(ids) == 3  # three rows share a phone: they cannot share a batch
    assert (
        scalar(
            "SELECT count(*) FROM (SELECT b.batch_id FROM batch_rows b "
            "JOIN rows r ON r.id = b.row_id GROUP BY b.batch_id, r.phone HAVING count(*) > 1) x"
        )
        == 0
    )
    works = ledger.sending.claim_sendable(s.lease, limit=10)
    assert [w.id for w in works] == ids
    for work in works:
        assert body_digest(work.body(body_for)) == work.body_sha256
        assert work.generation == 1
    assert scalar("SELECT count(*) FROM rows WHERE state = 'batched'") == 6
    assert scalar("SELECT count(*) FROM events WHERE entity = 'batch'") == 3


def test_frozen_batches_survive_a_changed_batch_size(ledger: Ledger) -> None:
    s = start(ledger)
    plan_file(s, items(10))
    first = ledger.freezing.freeze_batches(s.lease, batch_size=4, body_for=body_for)
    before = ledger.sending.claim_sendable(s.lease, limit=10)
    assert ledger.freezing.freeze_batches(s.lease, batch_size=2, body_for=body_for) == []
    plan_file(s, items(3, start_row=11), sha="cd" * 32)
    later = ledger.freezing.freeze_batches(s.lease, batch_size=2, body_for=body_for)
    assert len(first) == 3 and len(later) == 2
    again = {w.id: w for w in ledger.sending.claim_sendable(s.lease, limit=10)}
    assert set(again) == set(later)  # the first batches are claimed already: not offered twice
    for w in before:
        assert w.items == tuple(sorted(w.items, key=lambda i: i.row))


def test_success_gives_each_row_its_job_id(
    ledger: Ledger, scalar: ScalarQuery, column: ColumnQuery
) -> None:
    s = start(ledger)
    plan_file(s, items(3))
    assert ledger.sending.claim_sendable(s.lease, limit=5) == []  # nothing frozen yet
    ledger.freezing.freeze_batches(s.lease, batch_size=10, body_for=body_for)
    (work,) = ledger.sending.claim_sendable(s.lease, limit=5)
    assert ledger.sending.mark_attempt(s.lease, work.id) == 1
    assert scalar("SELECT state FROM batches") == "sending"
    ledger.replies.record_success(s.lease, work.id, ["j1", "j2", "j3"])
    assert scalar("SELECT state FROM batches") == "confirmed"
    assert column("SELECT job_id FROM rows ORDER BY id") == ["j1", "j2", "j3"]
    assert scalar("SELECT count(*) FROM rows WHERE state = 'sent' AND sent_at IS NOT NULL") == 3
    with pytest.raises(LedgerError, match="confirmed"):
        ledger.replies.record_success(s.lease, work.id, ["j1", "j2", "j3"])


def test_wrong_number_of_job_ids_changes_nothing(ledger: Ledger, scalar: ScalarQuery) -> None:
    s = start(ledger)
    plan_file(s, items(2))
    ledger.freezing.freeze_batches(s.lease, batch_size=10, body_for=body_for)
    (work,) = ledger.sending.claim_sendable(s.lease, limit=5)
    ledger.sending.mark_attempt(s.lease, work.id)
    with pytest.raises(LedgerError, match="returned 1 job ids for 2 phones"):
        ledger.replies.record_success(s.lease, work.id, ["j1"])
    assert scalar("SELECT count(*) FROM rows WHERE job_id IS NOT NULL") == 0
    assert scalar("SELECT state FROM batches") == "sending"


def test_unknown_then_retry_with_same_key(
    ledger: Ledger, scalar: ScalarQuery, clock: FakeClock
) -> None:
    s = start(ledger)
    plan_file(s, items(2))
    ledger.freezing.freeze_batches(s.lease, batch_size=10, body_for=body_for)
    (work,) = ledger.sending.claim_sendable(s.lease, limit=5)
    ledger.sending.mark_attempt(s.lease, work.id)
    ledger.replies.record_unknown(
        s.lease,
        work.id,
        error="timeout on https://app.jaicp.com/api/calls/campaign/1000.2000.x/addPhones",
    )
    assert scalar("SELECT state FROM batches") == "unknown"
    stored = str(scalar("SELECT last_error FROM batches"))
    assert "http" not in stored and "1000.2000" not in stored
    clock.advance(minutes=5)
    assert ledger.sending.mark_attempt(s.lease, work.id) == 2  # same claim, same key
    assert scalar("SELECT attempts FROM batches") == 2
    first, last = (
        scalar("SELECT first_sent_at FROM batches"),
        scalar("SELECT last_sent_at FROM batches"),
    )
    assert first != last
    ledger.replies.record_success(s.lease, work.id, ["a", "b"])
    assert scalar("SELECT count(*) FROM events WHERE entity = 'batch'") == 5


def test_bad_row_rejects_it_and_replans_the_rest_under_a_new_key(
    ledger: Ledger, scalar: ScalarQuery
) -> None:
    s = start(ledger)
    plan_file(s, items(3))
    ledger.freezing.freeze_batches(s.lease, batch_size=10, body_for=body_for)
    (work,) = ledger.sending.claim_sendable(s.lease, limit=5)
    ledger.sending.mark_attempt(s.lease, work.id)
    bad = work.items[1].phone
    back = ledger.replies.record_bad_row(
        s.lease, work.id, phone=bad, code="phone.bad.format", message="bad"
    )
    assert back == 2
    assert scalar("SELECT state FROM batches") == "rejected"
    assert scalar(f"SELECT reason_code FROM rows WHERE phone = '{bad}'") == "phone.bad.format"
    assert scalar("SELECT count(*) FROM rows WHERE state = 'planned' AND batch_id IS NULL") == 2
    (new_id,) = ledger.freezing.freeze_batches(s.lease, batch_size=10, body_for=body_for)
    (again,) = ledger.sending.claim_sendable(s.lease, limit=5)
    assert again.id == new_id and again.request_key != work.request_key
    assert [i.phone for i in again.items] == [work.items[0].phone, work.items[2].phone]
    with pytest.raises(LedgerError, match="no row of the batch"):
        ledger.sending.mark_attempt(s.lease, again.id)
        ledger.replies.record_bad_row(s.lease, again.id, phone="70000000000", code="x", message="y")
    assert scalar(f"SELECT state FROM batches WHERE id = {again.id}") == "sending"


def test_whole_batch_rejection(ledger: Ledger, scalar: ScalarQuery) -> None:
    s = start(ledger)
    plan_file(s, items(2))
    ledger.freezing.freeze_batches(s.lease, batch_size=10, body_for=body_for)
    (work,) = ledger.sending.claim_sendable(s.lease, limit=5)
    with pytest.raises(LedgerError, match="planned"):
        ledger.replies.record_rejected(s.lease, work.id, code="x", message="not sent yet")
    ledger.sending.mark_attempt(s.lease, work.id)
    ledger.replies.record_rejected(
        s.lease, work.id, code="invalid.call.task.state", message="stopped"
    )
    assert scalar("SELECT count(*) FROM rows WHERE state = 'rejected'") == 2
    assert ledger.sending.claim_sendable(s.lease, limit=5) == []


def test_expired_key_is_never_handed_out_again(
    ledger: Ledger, scalar: ScalarQuery, clock: FakeClock
) -> None:
    s = start(ledger, ttl_s=10 * 86_400)
    plan_file(s, items(2))
    ledger.freezing.freeze_batches(s.lease, batch_size=10, body_for=body_for)
    (work,) = ledger.sending.claim_sendable(s.lease, limit=5)
    ledger.sending.mark_attempt(s.lease, work.id)
    ledger.replies.record_unknown(s.lease, work.id, error="reply lost")
    clock.advance(hours=23, seconds=1)  # 24 h minus the 1 h margin has passed
    with pytest.raises(KeyExpiredError, match="never sent again"):
        ledger.sending.mark_attempt(s.lease, work.id)
    ledger.leases.release(s.lease)
    lease2 = ledger.leases.acquire(s.campaign_id, owner="next-run", ttl_s=600, run_id=s.run_id)
    assert ledger.sending.claim_sendable(lease2, limit=5) == []
    (expired,) = ledger.reconciling.claim_expired(lease2, limit=5)
    assert expired.id == work.id
    assert scalar("SELECT attempts FROM batches") == 1


def test_key_not_yet_expired_is_resent_not_reconciled(ledger: Ledger, clock: FakeClock) -> None:
    s = start(ledger, ttl_s=10 * 86_400)
    plan_file(s, items(1))
    ledger.freezing.freeze_batches(s.lease, batch_size=10, body_for=body_for)
    (work,) = ledger.sending.claim_sendable(s.lease, limit=5)
    ledger.sending.mark_attempt(s.lease, work.id)
    clock.advance(hours=22)
    assert ledger.reconciling.claim_expired(s.lease, limit=5) == []
    with pytest.raises(LedgerError, match="still valid"):
        ledger.reconciling.reconcile_batch(
            s.lease, work.id, found={}, body_for=body_for, reason="r"
        )


def test_reconcile_adopts_found_rows_and_refreshes_the_rest(
    ledger: Ledger, scalar: ScalarQuery, clock: FakeClock
) -> None:
    s = start(ledger, ttl_s=10 * 86_400)
    plan_file(s, items(3))
    ledger.freezing.freeze_batches(s.lease, batch_size=10, body_for=body_for)
    (work,) = ledger.sending.claim_sendable(s.lease, limit=5)
    ledger.sending.mark_attempt(s.lease, work.id)  # then the process died: batch stays "sending"
    clock.advance(hours=25)
    (expired,) = ledger.reconciling.claim_expired(s.lease, limit=5)
    found = {expired.row_ids[0]: "job-7"}
    new_id = ledger.reconciling.reconcile_batch(
        s.lease, expired.id, found=found, body_for=body_for, reason="getReport"
    )
    assert new_id is not None
    assert scalar(f"SELECT state FROM batches WHERE id = {work.id}") == "refreshed"
    assert scalar(f"SELECT generation FROM batches WHERE id = {new_id}") == 2
    assert scalar(f"SELECT parent_id FROM batches WHERE id = {new_id}") == work.id
    assert scalar(f"SELECT job_id FROM rows WHERE id = {expired.row_ids[0]}") == "job-7"
    assert scalar("SELECT count(*) FROM events WHERE entity = 'row' AND to_state = 'sent'") == 1
    (fresh,) = ledger.sending.claim_sendable(s.lease, limit=5)
    assert fresh.id == new_id and fresh.request_key != work.request_key
    assert fresh.row_ids == expired.row_ids[1:]
    ledger.sending.mark_attempt(s.lease, fresh.id)
    ledger.replies.record_success(s.lease, fresh.id, ["job-8", "job-9"])
    assert scalar("SELECT count(*) FROM rows WHERE state = 'sent'") == 3


def test_reconcile_with_everything_found(
    ledger: Ledger, scalar: ScalarQuery, clock: FakeClock
) -> None:
    s = start(ledger, ttl_s=10 * 86_400)
    plan_file(s, items(2))
    ledger.freezing.freeze_batches(s.lease, batch_size=10, body_for=body_for)
    (work,) = ledger.sending.claim_sendable(s.lease, limit=5)
    ledger.sending.mark_attempt(s.lease, work.id)
    ledger.replies.record_unknown(s.lease, work.id, error="502")
    clock.advance(days=2)
    with pytest.raises(LedgerError, match="not in it"):
        ledger.reconciling.reconcile_batch(
            s.lease, work.id, found={999: "x"}, body_for=body_for, reason="r"
        )
    found = dict(zip(work.row_ids, ["x1", "x2"], strict=True))
    assert (
        ledger.reconciling.reconcile_batch(
            s.lease, work.id, found=found, body_for=body_for, reason="r"
        )
        is None
    )
    assert scalar("SELECT state FROM batches") == "reconciled"
    with pytest.raises(LedgerError, match="only batches in doubt"):
        ledger.reconciling.reconcile_batch(
            s.lease, work.id, found={}, body_for=body_for, reason="r"
        )


def test_a_changed_encoder_cannot_resend_under_the_old_key(ledger: Ledger) -> None:
    s = start(ledger)
    plan_file(s, items(2))
    ledger.freezing.freeze_batches(s.lease, batch_size=10, body_for=body_for)
    (work,) = ledger.sending.claim_sendable(s.lease, limit=5)
    with pytest.raises(LedgerError, match="does not match the digest"):
        work.body(lambda its: body_for(its) + b" ")


def test_finish_run_counts_every_state(ledger: Ledger) -> None:
    s = start(ledger)
    plan_file(s, [*items(3), Rejection(4, None, "empty_row", "empty")])
    ledger.freezing.freeze_batches(s.lease, batch_size=2, body_for=body_for)
    work = ledger.sending.claim_sendable(s.lease, limit=5)[0]
    ledger.sending.mark_attempt(s.lease, work.id)
    ledger.replies.record_success(s.lease, work.id, ["1", "2"])
    counts = ledger.runs.finish(s.run_id, exit_status=3, stats={"retries": 2})
    assert counts == {"sent": 2, "rejected": 1, "duplicate": 0, "pending": 1, "retries": 2}
    with pytest.raises(LedgerError, match="already finished"):
        ledger.runs.finish(s.run_id, exit_status=0)
