"""The ledger's fast paths give exactly what the slow ones gave.

* bodies spliced from stored canonical JSON are byte-identical to
  ``pipeline.api.encode_add_phones`` of the rows' items (the bytes whose digest is frozen);
* relaxed commits (planning, freezing, claiming) never leave a durable transaction relaxed;
* ``record_success`` gives each row its own job id, in body order.
"""

from __future__ import annotations

import hashlib
from typing import Any

import pytest

from pipeline.api import encode_add_phones
from pipeline.ledger import Ledger, canonical_body
from pipeline.ledger.transitions.bodies import PlannedRow
from pipeline.records import CallItem
from tests.ledger.conftest import ColumnQuery, ScalarQuery, plan_file, start

# Payloads and policies that stress the encoding: non-ASCII, escapes, nesting, numbers as
# strings and as numbers, floats, booleans, null, empty; policy keys that sort before
# "payload", between "payload" and "phone", and after "phone".
PAYLOADS: list[dict[str, Any]] = [
    {},
    {"name": "Иван Петрович", "debt": 1500},
    {"name": 'quote " back \\ slash', "tab": "a\tb\nc", "ctl": "\x01"},
    {"amount": "00123", "big": 12345678901234567890, "ratio": 0.1, "neg": -0.0, "exp": 1e16},
    {"nested": {"z": [1, {"b": None, "a": True}], "a": {"é": "ü", "A": False}}, "emoji": "😀"},
    {"zeta": 1, "Alpha": 2, "_": 3, "payload": "not the top-level one"},
]
POLICIES: list[dict[str, Any]] = [
    {},
    {"gmtZone": "+03:00"},
    {"allowedDays": ["mon", "tue"], "percent": 5, "priority": 2, "startDateTime": "2026-03-01"},
    {"allowedTime": {"mon": [{"from": "09:00", "to": "18:00"}]}, "maxAttempts": 3},
    {"priority": None, "phoneType": "mobile", "zone": {}, "ñ": "è"},
]


def _items() -> list[CallItem]:
    out = []
    for n, payload in enumerate(PAYLOADS):
        for m, policy in enumerate(POLICIES):
            row = n * len(POLICIES) + m + 1
            # One phone that is not plain digits: the splice must escape it like the encoder.
            number = f"7916{row:07d}" if row != 2 else '+7 "916"\\'
            out.append(CallItem(row=row, phone=number, payload=payload, policy=policy))
    return out


def test_canonical_body_is_encode_add_phones() -> None:
    items = _items()
    assert canonical_body(items) == encode_add_phones([i.to_api() for i in items])
    assert canonical_body([]) == encode_add_phones([])


def _no_decoding(*_args: object) -> CallItem:
    raise AssertionError("the splice path decoded a row")


def test_spliced_bodies_match_encode_add_phones(
    ledger: Ledger, column: ColumnQuery, monkeypatch: pytest.MonkeyPatch
) -> None:
    s = start(ledger)
    items = _items()
    plan_file(s, items)
    with monkeypatch.context() as patch:  # proves the bodies are spliced, not re-encoded
        patch.setattr(PlannedRow, "item", _no_decoding)
        ledger.freezing.freeze_batches(s.lease, batch_size=7, body_for=canonical_body)
        works = ledger.sending.claim_sendable(s.lease, limit=100)
        bodies = [w.body(canonical_body) for w in works]  # digest checked
    assert sum(len(w.rows) for w in works) == len(items)
    by_row = {i.row: i for i in items}
    digests = column("SELECT body_sha256 FROM batches ORDER BY id")
    for work, body, digest in zip(works, bodies, digests, strict=True):
        originals = [by_row[r.row_number] for r in work.rows]
        expected = encode_add_phones([i.to_api() for i in originals])
        assert body == expected
        assert hashlib.sha256(expected).hexdigest() == digest == work.body_sha256
        assert work.items == tuple(originals)


def test_a_policy_naming_phone_takes_the_decoding_path(ledger: Ledger) -> None:
    # to_api() lets such a policy override the field; the splice cannot, so it must not try.
    s = start(ledger)
    odd = [CallItem(row=1, phone="79160000001", payload={"a": 1}, policy={"phone": "x"})]
    plan_file(s, odd)
    ledger.freezing.freeze_batches(s.lease, batch_size=5, body_for=canonical_body)
    (work,) = ledger.sending.claim_sendable(s.lease, limit=5)
    assert work.body(canonical_body) == encode_add_phones([odd[0].to_api()])


def test_relaxed_commits_leave_durable_ones_durable(ledger: Ledger) -> None:
    sqlite = ledger.store.engine.dialect.name == "sqlite"
    query = "PRAGMA synchronous" if sqlite else "SHOW synchronous_commit"
    full, relaxed = (2, 1) if sqlite else ("on", "off")
    with ledger.store.transaction() as conn:
        assert conn.exec_driver_sql(query).scalar() == full
    for _ in range(3):  # the pool hands the same connection back each time
        with ledger.store.transaction(durable=False) as conn:
            assert conn.exec_driver_sql(query).scalar() == relaxed
        with ledger.store.transaction() as conn:
            assert conn.exec_driver_sql(query).scalar() == full


def test_relaxed_transaction_rolls_back_and_restores_on_error(
    ledger: Ledger, scalar: ScalarQuery
) -> None:
    start(ledger)
    with pytest.raises(RuntimeError), ledger.store.transaction(durable=False) as conn:
        conn.exec_driver_sql("UPDATE campaigns SET label = 'changed'")
        raise RuntimeError("boom")
    assert scalar("SELECT label FROM campaigns") == ""
    sqlite = ledger.store.engine.dialect.name == "sqlite"
    with ledger.store.transaction() as conn:
        got = conn.exec_driver_sql("PRAGMA synchronous" if sqlite else "SHOW synchronous_commit")
        assert got.scalar() == (2 if sqlite else "on")


def test_record_success_gives_each_row_its_job_in_body_order(
    ledger: Ledger, column: ColumnQuery
) -> None:
    s = start(ledger)
    plan_file(s, _items()[:6])
    ledger.freezing.freeze_batches(s.lease, batch_size=6, body_for=canonical_body)
    (work,) = ledger.sending.claim_sendable(s.lease, limit=5)
    ledger.sending.mark_attempt(s.lease, work.id)
    jobs = [f"job-{n}" for n in range(6)]
    ledger.replies.record_success(s.lease, work.id, jobs)
    got = column(
        "SELECT r.job_id FROM batch_rows b JOIN rows r ON r.id = b.row_id "
        f"WHERE r.state = 'sent' AND r.sent_at IS NOT NULL AND b.batch_id = {work.id} "
        "ORDER BY b.position"
    )
    assert got == jobs
