"""Freezer: freezing a step at a time, each step one transaction that leaves the rest planned."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from pipeline.ledger import Ledger, canonical_body
from pipeline.ledger.transitions import batches as batches_module
from pipeline.ledger.transitions.bodies import PlannedRow
from pipeline.records import CallItem
from tests.ledger.conftest import ColumnQuery, ScalarQuery, items, plan_file, start


def _with_repeats() -> list[CallItem]:
    # Every third row repeats the phone before it: batches must push those rows along.
    rows = items(40)
    return [
        CallItem(row=r.row, phone=rows[i - 1].phone if i % 3 == 2 else r.phone, payload=r.payload)
        for i, r in enumerate(rows)
    ]


def test_small_steps_freeze_every_row_once_with_no_phone_twice_in_a_batch(
    ledger: Ledger, column: ColumnQuery, scalar: ScalarQuery
) -> None:
    s = start(ledger)
    plan_file(s, _with_repeats())
    freezer = ledger.freezing.freezer(s.lease, batch_size=6, body_for=canonical_body)
    steps = 0
    while freezer.step(max_rows=4):
        steps += 1
        # Between steps the rows not frozen yet are still planned: a crash here loses nothing.
        frozen = scalar("SELECT count(*) FROM rows WHERE state = 'batched'")
        planned = scalar("SELECT count(*) FROM rows WHERE state = 'planned'")
        assert frozen == 6 * len(freezer.created)
        assert (frozen, planned) != (0, 0) and int(frozen) + int(planned) == 40  # type: ignore[call-overload]
    assert steps >= 9 and freezer.done and not freezer.step()
    assert scalar("SELECT count(*) FROM rows WHERE state = 'planned'") == 0
    stepwise = column("SELECT size FROM batches ORDER BY id")
    # One phone at most once per batch, every row in exactly one batch.
    assert (
        scalar(
            "SELECT count(*) FROM (SELECT b.batch_id, r.phone FROM batch_rows b "
            "JOIN rows r ON r.id = b.row_id GROUP BY b.batch_id, r.phone HAVING count(*) > 1) x"
        )
        == 0
    )
    assert scalar("SELECT count(DISTINCT row_id) FROM batch_rows") == 40

    # Full batches until the tail (a repeated phone may leave one short batch before the last).
    assert sum(stepwise) == 40  # type: ignore[arg-type]
    assert stepwise[:-2] == [6] * (len(stepwise) - 2)


def test_a_new_freezer_picks_up_what_an_old_one_carried(
    ledger: Ledger, scalar: ScalarQuery
) -> None:
    s = start(ledger)
    plan_file(s, items(10))
    first = ledger.freezing.freezer(s.lease, batch_size=4, body_for=canonical_body)
    first.step(max_rows=6)  # one batch of 4, two rows carried and still planned
    assert scalar("SELECT count(*) FROM rows WHERE state = 'planned'") == 6
    second = ledger.freezing.freezer(s.lease, batch_size=4, body_for=canonical_body)
    while second.step(max_rows=3):
        pass
    assert scalar("SELECT count(*) FROM rows WHERE state = 'planned'") == 0
    assert scalar("SELECT count(DISTINCT row_id) FROM batch_rows") == 10
    assert scalar("SELECT count(*) FROM batch_rows") == 10


def test_claims_take_the_rows_of_fresh_batches_from_memory_and_the_rest_from_the_ledger(
    ledger: Ledger, monkeypatch: pytest.MonkeyPatch
) -> None:
    s = start(ledger)
    plan_file(s, items(40))
    monkeypatch.setattr(batches_module, "_KEEP_ROWS", 32)  # bounded by rows: 16 batches of 2
    freezer = ledger.freezing.freezer(s.lease, batch_size=2, body_for=canonical_body)
    while freezer.step(max_rows=40):
        pass
    assert len(ledger.sending.fresh.rows) == 16  # 20 batches frozen, 16 kept
    from_db: list[int] = []
    real_load_rows = batches_module.load_rows

    def counting_load_rows(conn: sa.Connection, batch_id: int) -> list[PlannedRow]:
        from_db.append(batch_id)
        return real_load_rows(conn, batch_id)

    monkeypatch.setattr(batches_module, "load_rows", counting_load_rows)
    works = ledger.sending.claim_sendable(s.lease, limit=100)
    assert len(works) == 20 and ledger.sending.fresh.rows == {}
    assert from_db == [w.id for w in works][16:]
    with ledger.store.engine.connect() as conn:
        for work in works:
            assert list(work.rows) == real_load_rows(conn, work.id)
            work.body(canonical_body)  # the digest frozen with the key still matches
