"""Freezing while planning gives what planning and then freezing gave, in fewer steps.

* the batches of ``plan_chunks(..., batch_size=, body_for=)`` hold the rows (in order), the
  digests and the bodies that ``freeze_batches`` would have made, across chunk borders, with
  no phone twice in a batch and the last rows frozen too;
* a plan interrupted between chunks leaves its carried rows planned, and the next freeze takes
  them;
* a chunk prepared elsewhere (another process) plans the same rows; one prepared for another
  input is refused;
* planning's unchecked transactions leave foreign keys consistent and checked afterwards;
* several intents or outcomes in one transaction are all or nothing.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from pipeline.errors import KeyExpiredError, LedgerError
from pipeline.ledger import Ledger, canonical_body, open_ledger
from pipeline.ledger.store.keys import canonical_json
from pipeline.ledger.transitions.row_values import payload_json
from pipeline.records import CallItem, Duplicate, Rejection
from tests.conftest import FakeClock
from tests.ledger.conftest import ColumnQuery, ScalarQuery, items, start


def _records(n: int) -> list[CallItem | Rejection | Duplicate]:
    """Accepted rows with a rejection, an in-file duplicate and repeated phones among them."""
    out: list[CallItem | Rejection | Duplicate] = []
    for row in range(1, n + 1):
        if row % 17 == 0:
            out.append(Rejection(row, "phone", "phone_invalid", "not a phone"))
        elif row % 23 == 0:
            out.append(Duplicate(row, row - 1 if (row - 1) % 17 else row - 2))
        else:
            # every 7th row calls the phone of the row before it (another payload)
            number = row - 1 if row % 7 == 0 else row
            out.append(CallItem(row, f"7916{number:07d}", {"n": row, "name": f"Имя {row}"}))
    return out


def _batches(ledger: Ledger, campaign_id: int) -> list[tuple[str, list[int]]]:
    """(body digest, row numbers in body order) of the campaign's batches, by id."""
    with ledger.store.engine.connect() as conn:
        rows = conn.exec_driver_sql(
            "SELECT b.id, b.body_sha256, r.row_number FROM batches b "
            "JOIN batch_rows br ON br.batch_id = b.id JOIN rows r ON r.id = br.row_id "
            f"WHERE b.campaign_id = {campaign_id} ORDER BY b.id, br.position"
        ).all()
    out: dict[int, tuple[str, list[int]]] = {}
    for batch_id, digest, row in rows:
        out.setdefault(batch_id, (digest, []))[1].append(row)
    return list(out.values())


@pytest.mark.parametrize("chunk", [13, 50, 1000])
def test_freezing_while_planning_equals_planning_then_freezing(
    chunk: int, ledger: Ledger, scalar: ScalarQuery
) -> None:
    records = _records(200)
    parts = [records[i : i + chunk] for i in range(0, len(records), chunk)]
    plain = start(ledger)
    state = ledger.inputs.begin(plain.lease, name="a.csv", sha256="ab" * 32)
    ledger.planning.plan_chunks(plain.lease, state.id, parts)
    ledger.freezing.freeze_batches(plain.lease, batch_size=9, body_for=canonical_body)
    fused = start(ledger, token="1000.2000.anotherCampaign", owner="worker-2")
    state = ledger.inputs.begin(fused.lease, name="a.csv", sha256="ab" * 32)
    counts = ledger.planning.plan_chunks(
        fused.lease, state.id, parts, batch_size=9, body_for=canonical_body
    )

    assert scalar("SELECT count(*) FROM rows WHERE state = 'planned'") == 0
    fused_batches = _batches(ledger, fused.campaign_id)
    assert len(counts.batches) == len(fused_batches)
    # Rows are cut the same way whichever chunks they arrive in: same rows, same bodies.
    assert fused_batches == _batches(ledger, plain.campaign_id)
    plain_bodies = [
        w.body(canonical_body) for w in ledger.sending.claim_sendable(plain.lease, limit=99)
    ]
    fused_bodies = [
        w.body(canonical_body) for w in ledger.sending.claim_sendable(fused.lease, limit=99)
    ]
    assert fused_bodies == plain_bodies


def test_no_phone_twice_in_a_batch_and_every_row_once(ledger: Ledger, scalar: ScalarQuery) -> None:
    s = start(ledger)
    state = ledger.inputs.begin(s.lease, name="a.csv", sha256="ab" * 32)
    records = _records(300)
    parts = [records[i : i + 40] for i in range(0, 300, 40)]
    ledger.planning.plan_chunks(s.lease, state.id, parts, batch_size=10, body_for=canonical_body)
    twice = scalar(
        "SELECT count(*) FROM (SELECT br.batch_id, r.phone FROM batch_rows br JOIN rows r "
        "ON r.id = br.row_id GROUP BY br.batch_id, r.phone HAVING count(*) > 1) x"
    )
    accepted = sum(isinstance(r, CallItem) for r in records)
    assert twice == 0
    assert scalar("SELECT count(DISTINCT row_id) FROM batch_rows") == accepted
    assert scalar("SELECT count(*) FROM batch_rows") == accepted
    assert scalar("SELECT count(*) FROM rows WHERE state = 'batched'") == accepted
    assert scalar("SELECT count(*) FROM rows WHERE batch_id IS NULL AND state = 'batched'") == 0
    if ledger.store.engine.dialect.name == "sqlite":  # the checks planning skipped still hold
        with ledger.store.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA foreign_key_check").all() == []


def test_rows_carried_by_an_interrupted_plan_are_frozen_later(
    ledger: Ledger, scalar: ScalarQuery
) -> None:
    s = start(ledger)
    state = ledger.inputs.begin(s.lease, name="a.csv", sha256="ab" * 32)
    rows = items(25)

    def killed_after_first_chunk() -> Any:
        yield rows[:14]  # one batch of 10 frozen, 4 rows carried (planned in the ledger)
        raise KeyboardInterrupt  # the process dies before the next chunk

    with pytest.raises(KeyboardInterrupt):
        ledger.planning.plan_chunks(
            s.lease, state.id, killed_after_first_chunk(), batch_size=10, body_for=canonical_body
        )
    assert scalar("SELECT count(*) FROM rows WHERE state = 'planned'") == 4
    # The next run reads the whole file again; planning skips rows 1..14.
    counts = ledger.planning.plan_chunks(
        s.lease, state.id, [rows], batch_size=10, body_for=canonical_body
    )
    assert counts.skipped_already_planned == 14 and counts.planned == 11
    assert scalar("SELECT count(*) FROM rows WHERE state = 'planned'") == 4  # the old carry
    ledger.freezing.freeze_batches(s.lease, batch_size=10, body_for=canonical_body)
    assert scalar("SELECT count(*) FROM rows WHERE state = 'planned'") == 0
    assert scalar("SELECT count(DISTINCT row_id) FROM batch_rows") == 25
    assert scalar("SELECT count(*) FROM batch_rows") == 25


def test_a_prepared_chunk_plans_like_records_and_must_belong_to_the_input(
    ledger: Ledger, column: ColumnQuery
) -> None:
    s = start(ledger)
    first = ledger.inputs.begin(s.lease, name="a.csv", sha256="ab" * 32)
    other = ledger.inputs.begin(s.lease, name="b.csv", sha256="cd" * 32)
    records = _records(40)
    prepared = ledger.planning.chunk_preparer(s.lease, first.id)(records)
    with pytest.raises(LedgerError, match="another input"):
        ledger.planning.plan_chunks(s.lease, other.id, [prepared])
    counts = ledger.planning.plan_chunks(s.lease, first.id, [prepared])
    assert counts.planned == sum(isinstance(r, CallItem) for r in records)
    keys = column("SELECT row_key FROM rows WHERE row_key IS NOT NULL ORDER BY row_number")
    assert len(set(keys)) == counts.planned


def test_payload_json_is_canonical_json() -> None:
    payloads: list[dict[Any, Any]] = [
        {},
        {"name": "Иван", "debt": 1500},
        {"b": True, "a": False, "c": None, "z": -7, "big": 12345678901234567890},
        {"quote": 'say "hi"\\', "ctl": "\x01\n\t", "emoji": "😀", "é": "ü"},
        {"ratio": 0.1, "neg": -0.0, "exp": 1e16},  # floats: through the encoder
        {"nested": {"z": [1, {"b": None}]}, "list": [3, 2]},
        {"payload": "x", "phone": "y", "_": 1, "Z": 2},
        {1: "int key"},  # not a JSON object key the splice handles: the encoder decides
    ]
    for payload in payloads:
        assert payload_json(payload) == canonical_json(payload), payload


def test_unchecked_transactions_restore_foreign_keys(tmp_path: Path) -> None:
    # SQLite only: its foreign-key checks are a per-connection pragma the ledger switches off
    # for planning; PostgreSQL checks foreign keys in every transaction (nothing to restore).
    ledger = open_ledger(f"sqlite:///{tmp_path / 'fk.sqlite3'}", key_safety_margin_s=3600)
    for _ in range(3):  # the pool hands the same connection back
        with ledger.store.transaction(durable=False, checked=False) as conn:
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 0
            assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 1
        with ledger.store.transaction() as conn:
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2
    ledger.close()


def test_intents_and_outcomes_of_several_batches_are_all_or_nothing(
    ledger: Ledger, scalar: ScalarQuery, clock: FakeClock
) -> None:
    s = start(ledger)
    state = ledger.inputs.begin(s.lease, name="a.csv", sha256="ab" * 32)
    ledger.planning.plan_chunks(
        s.lease, state.id, [items(30)], batch_size=10, body_for=canonical_body
    )
    works = ledger.sending.claim_sendable(s.lease, limit=10)
    assert ledger.sending.mark_attempts(s.lease, [w.id for w in works]) == [1, 1, 1]
    good = [(w.id, [f"j{w.id}-{n}" for n in range(10)]) for w in works]
    bad = [*good[:2], (works[2].id, ["too", "few"])]
    with pytest.raises(LedgerError, match="job ids"):
        ledger.replies.record_successes(s.lease, bad)
    assert scalar("SELECT count(*) FROM rows WHERE state = 'sent'") == 0
    ledger.replies.record_successes(s.lease, good)
    assert scalar("SELECT count(*) FROM rows WHERE state = 'sent' AND job_id IS NOT NULL") == 30
    # A key that crossed the expiry line: none of the group is marked.
    ledger.planning.plan_chunks(
        s.lease,
        ledger.inputs.begin(s.lease, name="b.csv", sha256="cd" * 32).id,
        [items(20, start_row=1, prefix="7917000")],
        batch_size=10,
        body_for=canonical_body,
    )
    old, new = ledger.sending.claim_sendable(s.lease, limit=10)
    ledger.sending.mark_attempt(s.lease, old.id)
    ledger.replies.record_unknown(s.lease, old.id, error="timeout")
    clock.advance(hours=24)
    with pytest.raises(KeyExpiredError):
        ledger.sending.mark_attempts(s.lease, [new.id, old.id])
    assert scalar(f"SELECT attempts FROM batches WHERE id = {new.id}") == 0


def test_sent_at_is_stored_as_sqlalchemy_stores_times(
    ledger: Ledger, scalar: ScalarQuery, clock: FakeClock
) -> None:
    s = start(ledger)
    state = ledger.inputs.begin(s.lease, name="a.csv", sha256="ab" * 32)
    ledger.planning.plan_chunks(
        s.lease, state.id, [items(3)], batch_size=10, body_for=canonical_body
    )
    (work,) = ledger.sending.claim_sendable(s.lease, limit=1)
    ledger.sending.mark_attempt(s.lease, work.id)
    ledger.replies.record_success(s.lease, work.id, ["1", "2", "3"])
    if ledger.store.engine.dialect.name == "sqlite":  # text that sorts with the other times
        assert scalar("SELECT min(sent_at) FROM rows") == "2026-03-01 09:00:00.000000"
    with ledger.store.engine.connect() as conn:
        from pipeline.ledger.store import schema as t

        got = conn.execute(t.rows.select().where(t.rows.c.state == "sent")).all()
    assert {row.sent_at for row in got} == {clock.now}


def test_a_prepared_chunk_survives_the_trip_from_the_reader_process() -> None:
    import pickle

    from pipeline.ledger.transitions.row_values import prepare_chunk

    records = [
        *_records(60),
        CallItem(61, "79160000061", {"a": [1, 2]}, {"gmtZone": "+03:00", "maxAttempts": 3}),
    ]
    prepared = prepare_chunk(records, "0123456789abcdef", (7, 8, 9))
    back = pickle.loads(pickle.dumps(prepared, protocol=pickle.HIGHEST_PROTOCOL))
    assert back.values == prepared.values and back.dup_links == prepared.dup_links
    empty = prepare_chunk([], "0123456789abcdef", (7, 8, 9))
    assert pickle.loads(pickle.dumps(empty)).values == []


def test_batches_frozen_while_planning_carry_the_clocks_time(
    ledger: Ledger, scalar: ScalarQuery, clock: FakeClock
) -> None:
    from pipeline.ledger.store import schema as t

    s = start(ledger)
    state = ledger.inputs.begin(s.lease, name="a.csv", sha256="ab" * 32)
    ledger.planning.plan_chunks(
        s.lease, state.id, [items(30)], batch_size=10, body_for=canonical_body
    )
    with ledger.store.engine.connect() as conn:
        created = conn.execute(sa.select(t.batches.c.created_at)).scalars().all()
        events = conn.execute(
            sa.select(t.events.c.at, t.events.c.actor, t.events.c.reason).where(
                t.events.c.entity == "batch"
            )
        ).all()
    assert created == [clock.now] * 3
    assert [(at, actor) for at, actor, _ in events] == [(clock.now, "worker-1")] * 3
    assert all(reason.startswith("frozen: 10 rows, key ") for _, _, reason in events)
    if ledger.store.engine.dialect.name == "sqlite":  # text that sorts with the other times
        assert scalar("SELECT min(created_at) FROM batches") == "2026-03-01 09:00:00.000000"
