"""``verify_ledger`` is clean on an honest ledger and names each invariant broken by hand."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from pipeline.ledger import Ledger
from pipeline.ledger.admin.verify import verify_ledger
from pipeline.ledger.store import schema as t
from pipeline.records import Duplicate, Rejection
from tests.ledger.conftest import body_for, items, plan_file, start


def build_honest_ledger(ledger: Ledger) -> None:
    """A run with sent, rejected, duplicate and pending rows, one batch in doubt."""
    s = start(ledger)
    plan_file(s, [*items(4), Rejection(5, "phone", "phone_invalid", "bad"), Duplicate(6, 1)])
    ledger.freezing.freeze_batches(s.lease, batch_size=2, body_for=body_for)
    first, second = ledger.sending.claim_sendable(s.lease, limit=5)
    ledger.sending.mark_attempt(s.lease, first.id)
    ledger.replies.record_success(s.lease, first.id, ["job-1", "job-2"])
    ledger.sending.mark_attempt(s.lease, second.id)
    ledger.replies.record_unknown(s.lease, second.id, error="timeout")
    ledger.runs.finish(s.run_id, exit_status=3)


def _shift_last_send(conn: sa.Connection) -> None:
    first = conn.execute(sa.select(t.batches.c.first_sent_at).limit(1)).scalar_one()
    conn.execute(sa.update(t.batches).values(last_sent_at=first + timedelta(hours=23, minutes=1)))


BREAKERS: dict[str, list[str] | Callable[[sa.Connection], None]] = {
    "row-state": ["UPDATE rows SET state = 'lost' WHERE row_number = 1"],
    "sent-has-job-id": ["UPDATE rows SET job_id = NULL WHERE row_number = 1"],
    "job-id-only-on-sent": ["UPDATE rows SET job_id = 'job-9' WHERE state = 'rejected'"],
    "no-job-id-twice": ["UPDATE rows SET job_id = 'job-1' WHERE state = 'sent'"],
    "rejected-has-reason": ["UPDATE rows SET reason_code = NULL WHERE state = 'rejected'"],
    "duplicate-points-at-row": ["UPDATE rows SET duplicate_of = NULL WHERE state = 'duplicate'"],
    "input-rows-add-up": ["DELETE FROM rows WHERE state = 'rejected'"],
    "no-phone-twice-in-batch": ["UPDATE rows SET phone = '70000000000' WHERE row_number IN (1, 2)"],
    "batch-size": ["UPDATE batches SET size = size + 1"],
    "batch-state": ["UPDATE batches SET state = 'lost'"],
    "confirmed-all-sent": ["UPDATE rows SET state = 'batched', job_id = NULL WHERE row_number = 2"],
    "attempts-recorded": ["UPDATE batches SET attempts = 0"],
    "events-match-states": ["UPDATE batches SET state = 'unknown' WHERE state = 'confirmed'"],
    "run-counts-add-up": ["UPDATE runs SET counts = '{\"sent\": 1}'"],
    "no-send-after-expiry": _shift_last_send,
}


def test_an_honest_ledger_verifies_clean(ledger: Ledger) -> None:
    build_honest_ledger(ledger)
    assert verify_ledger(ledger.store.engine) == []


@pytest.mark.parametrize("invariant", sorted(BREAKERS))
def test_verify_names_each_broken_invariant(ledger: Ledger, invariant: str) -> None:
    build_honest_ledger(ledger)
    breaker = BREAKERS[invariant]
    with ledger.store.engine.begin() as conn:
        if isinstance(breaker, list):
            for sql in breaker:
                conn.exec_driver_sql(sql)
        else:
            breaker(conn)
    problems = verify_ledger(ledger.store.engine)
    names = {p.invariant for p in problems}
    assert invariant in names, problems
    text = str(next(p for p in problems if p.invariant == invariant))
    assert text.startswith(f"{invariant}: ")
    assert text.rsplit(": ", maxsplit=1)[-1]  # the offending ids


def test_one_key_with_two_digests_is_refused_or_reported(ledger: Ledger) -> None:
    build_honest_ledger(ledger)
    key = "UPDATE batches SET request_key = (SELECT min(request_key) FROM batches)"
    if ledger.store.engine.dialect.name == "postgresql":
        with ledger.store.engine.begin() as conn:
            conn.exec_driver_sql("ALTER TABLE batches DROP CONSTRAINT uq_batches_request_key")
            conn.exec_driver_sql(key)
        names = {p.invariant for p in verify_ledger(ledger.store.engine)}
        assert {"key-one-digest", "key-unique"} <= names
    else:  # SQLite cannot drop the constraint: the database itself refuses the second use
        with pytest.raises(IntegrityError), ledger.store.engine.begin() as conn:
            conn.exec_driver_sql(key)
