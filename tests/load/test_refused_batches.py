"""A 400 that refuses the whole batch without naming a row: the batch is split under new keys
until the refused row is alone and rejected; every other row is called once."""

from __future__ import annotations

from collections import Counter
from typing import Any

from sqlalchemy import text

from pipeline.emulator import Emulator
from pipeline.errors import ExitCode
from pipeline.ledger import open_ledger
from pipeline.ledger.admin.verify import verify_ledger
from pipeline.records import CallItem
from tests.conftest import phone
from tests.load.conftest import Uploader, jobs_per_phone

BAD = phone(5)


def _plan_with_a_refused_row(uploader: Uploader, n: int) -> None:
    """``n`` rows, one asking for dialerPriority 9. The transform refuses that (1..5); an older
    version or a hand-edited ledger might not have: the server is the last line."""
    with open_ledger(uploader.ledger_url, clock=uploader.clock) as ledger:
        camp = ledger.campaigns.ensure(uploader.token)
        run_id = ledger.runs.start(command="upload", files=[], config_digest="x")
        lease = ledger.leases.acquire(camp.id, owner="old:1:x", ttl_s=1, run_id=run_id)
        state = ledger.inputs.begin(lease, name="old.csv", sha256="0" * 64)
        items = [
            CallItem(i + 1, phone(i), {"name": f"N{i}"}, {"dialerPriority": 9 if i == 5 else 2})
            for i in range(n)
        ]
        ledger.planning.plan_chunk(lease, state.id, items)
        ledger.inputs.complete(lease, state.id, rows_total=n)
        ledger.leases.release(lease)


def test_a_batch_refused_without_a_phone_is_narrowed_to_the_refused_row(
    uploader: Uploader, emulator: Emulator, campaign: dict[str, Any]
) -> None:
    _plan_with_a_refused_row(uploader, 8)

    summary = uploader.run(batch_size=8)

    assert summary.exit_code == ExitCode.OK, summary.lines()
    good = {phone(i): 1 for i in range(8) if phone(i) != BAD}
    assert jobs_per_phone(emulator, campaign["id"]) == good
    log = uploader.add_phones_log()
    # 8 rows → halves of 4 → 2 → 1: the bad row is refused once per level, each good half
    # goes out once; no key is ever used twice.
    assert Counter(e["status"] for e in log) == {400: 4, 200: 3}
    assert len({e["idempotenceKey"] for e in log}) == len(log)
    with open_ledger(uploader.ledger_url) as ledger, ledger.store.engine.connect() as conn:
        assert verify_ledger(ledger.store.engine) == []
        bad = conn.execute(
            text("select state, reason_code from rows where phone = :p"), {"p": BAD}
        ).one()
        assert tuple(bad) == ("rejected", "invalid.dialer_priority")
        states = Counter(conn.execute(text("select state from batches")).scalars())
        assert states == {"rejected": 4, "confirmed": 3}
        reasons = conn.execute(
            text("select reason from events where entity = 'batch' and to_state = 'rejected'")
        ).scalars()
        assert sum("without naming a row" in r for r in reasons) == 3


def test_a_refused_single_row_batch_rejects_that_row(
    uploader: Uploader, emulator: Emulator, campaign: dict[str, Any]
) -> None:
    _plan_with_a_refused_row(uploader, 6)  # rows 0..5, row 5 refused

    summary = uploader.run(batch_size=1)

    assert summary.exit_code == ExitCode.OK, summary.lines()
    with open_ledger(uploader.ledger_url) as ledger, ledger.store.engine.connect() as conn:
        states = Counter(conn.execute(text("select state from rows")).scalars())
    assert states == {"sent": 5, "rejected": 1}
    assert jobs_per_phone(emulator, campaign["id"]) == {phone(i): 1 for i in range(5)}
    assert [e["status"] for e in uploader.add_phones_log()].count(400) == 1
