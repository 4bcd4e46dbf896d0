"""The batch size a campaign's server takes, learnt from HTTP 413 and kept in the ledger:
``split_too_large`` halves the refused batch under new keys and lowers
``campaigns.max_batch_rows``; every freeze after it (while planning, or of rows put back to
planned) cuts batches no larger, in this run and later ones; the limit only goes down."""

from __future__ import annotations

from pipeline.ledger import Ledger, canonical_body
from tests.ledger.conftest import ColumnQuery, ScalarQuery, Setup, items, start


def _refuse_next(ledger: Ledger, s: Setup) -> list[int]:
    lease = s.lease
    (work,) = ledger.sending.claim_sendable(lease, limit=1)
    ledger.sending.mark_attempt(lease, work.id)
    return ledger.splits.split_too_large(
        lease, work.id, message="HTTP 413", body_for=canonical_body
    )


def test_a_refused_batch_lowers_the_size_of_every_later_freeze(
    ledger: Ledger, scalar: ScalarQuery, column: ColumnQuery
) -> None:
    s = start(ledger)
    first = ledger.inputs.begin(s.lease, name="a.csv", sha256="a" * 64)
    ledger.planning.plan_chunks(
        s.lease, first.id, [items(20)], batch_size=10, body_for=canonical_body
    )
    assert scalar("SELECT max_batch_rows FROM campaigns") is None

    halves = _refuse_next(ledger, s)
    assert len(halves) == 2
    assert scalar("SELECT max_batch_rows FROM campaigns") == 5
    sizes = column(f"SELECT size FROM batches WHERE id IN ({halves[0]}, {halves[1]}) ORDER BY id")
    keys = column("SELECT request_key FROM batches")
    assert sizes == [5, 5] and len(set(keys)) == len(keys)
    told = "SELECT reason FROM events WHERE entity = 'campaign' AND reason LIKE '%%HTTP 413%%'"
    assert len(column(told)) == 1

    # Planning freezes new rows in fives now, though it is asked for tens.
    second = ledger.inputs.begin(s.lease, name="b.csv", sha256="b" * 64)
    rows = items(12, start_row=100)
    ledger.planning.plan_chunks(s.lease, second.id, [rows], batch_size=10, body_for=canonical_body)
    assert column("SELECT size FROM batches ORDER BY id DESC LIMIT 3") == [2, 5, 5]

    # So does freezing rows planned without batches.
    third = ledger.inputs.begin(s.lease, name="c.csv", sha256="c" * 64)
    ledger.planning.plan_chunks(s.lease, third.id, [items(7, start_row=200)])
    ledger.freezing.freeze_batches(s.lease, batch_size=10, body_for=canonical_body)
    assert column("SELECT size FROM batches ORDER BY id DESC LIMIT 2") == [2, 5]


def test_the_limit_only_goes_down_and_a_single_row_is_rejected(
    ledger: Ledger, scalar: ScalarQuery
) -> None:
    s = start(ledger)
    state = ledger.inputs.begin(s.lease, name="a.csv", sha256="a" * 64)
    ledger.planning.plan_chunks(
        s.lease, state.id, [items(13)], batch_size=4, body_for=canonical_body
    )
    # batches of 4, 4, 4, 1: refuse the first (limit 2), then the second (4 > 2: stays 2)
    _refuse_next(ledger, s)
    assert scalar("SELECT max_batch_rows FROM campaigns") == 2
    _refuse_next(ledger, s)
    assert scalar("SELECT max_batch_rows FROM campaigns") == 2
    _refuse_next(ledger, s)  # the third batch of 4
    assert _refuse_next(ledger, s) == []  # the single row: rejected, nothing new
    assert scalar("SELECT count(*) FROM rows WHERE reason_code = 'row_too_large'") == 1
    assert scalar("SELECT max_batch_rows FROM campaigns") == 2
