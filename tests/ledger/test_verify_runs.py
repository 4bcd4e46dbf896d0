"""``run-counts-add-up`` after interrupted runs: no false alarm, and a broken count is caught.

A run interrupted while it plans a file (Ctrl-C, a lost lease, a spent budget) records the
counts of the rows planned so far; the next run of the same file resumes the same input and
plans the rest. The run-count check must accept that, and still report counts that were
changed afterwards (see also tests/crash/test_interrupted_verify.py for the real process).
"""

from __future__ import annotations

import json

import pytest

from pipeline.errors import ExitCode
from pipeline.ledger import Ledger
from pipeline.ledger.admin.verify import verify_ledger
from tests.ledger.conftest import body_for, items, start

ROWS = 10
INTERRUPTED_AT = 4  # rows planned before the first run stopped


def interrupted_then_completed(ledger: Ledger, *, first_exit: int) -> tuple[int, int]:
    """Run 1 plans 4 of 10 rows and stops; run 2 plans the rest and sends all. Returns ids."""
    first = start(ledger)
    state = ledger.inputs.begin(first.lease, name="export.csv", sha256="ab" * 32)
    ledger.planning.plan_chunk(first.lease, state.id, items(INTERRUPTED_AT))
    ledger.runs.finish(first.run_id, exit_status=first_exit)
    ledger.leases.release(first.lease)

    second = start(ledger)
    again = ledger.inputs.begin(second.lease, name="export.csv", sha256="ab" * 32)
    assert (again.id, again.planned_through) == (state.id, INTERRUPTED_AT)
    ledger.planning.plan_chunk(second.lease, again.id, items(ROWS))  # the whole file again
    ledger.inputs.complete(second.lease, again.id, rows_total=ROWS)
    ledger.freezing.freeze_batches(second.lease, batch_size=ROWS, body_for=body_for)
    (work,) = ledger.sending.claim_sendable(second.lease, limit=1)
    ledger.sending.mark_attempt(second.lease, work.id)
    ledger.replies.record_success(second.lease, work.id, [f"job-{i}" for i in range(ROWS)])
    counts = ledger.runs.finish(second.run_id, exit_status=ExitCode.OK)
    assert counts["sent"] == ROWS
    ledger.leases.release(second.lease)
    return first.run_id, second.run_id


@pytest.mark.parametrize(
    "first_exit",
    [130, ExitCode.PENDING, ExitCode.LEASE_HELD, ExitCode.FAILED],
    ids=["ctrl-c", "budget-or-signal", "lease-lost", "failed"],
)
def test_a_run_interrupted_while_planning_does_not_break_verify(
    ledger: Ledger, first_exit: int
) -> None:
    interrupted_then_completed(ledger, first_exit=first_exit)
    assert verify_ledger(ledger.store.engine) == []


def _set_counts(ledger: Ledger, run_id: int, counts: dict[str, int]) -> None:
    with ledger.store.engine.begin() as conn:
        conn.exec_driver_sql(
            f"UPDATE runs SET counts = '{json.dumps(counts)}' WHERE id = {int(run_id)}"
        )


@pytest.mark.parametrize(
    ("which", "counts"),
    [
        ("interrupted", {"pending": INTERRUPTED_AT - 1}),  # fewer than the rows it planned
        ("interrupted", {"pending": ROWS + 1}),  # more than the file has
        ("complete", {"sent": ROWS - 1}),  # a complete run missing a row
        ("complete", {"sent": ROWS, "pending": 1}),  # a complete run counting one row twice
    ],
    ids=["below-own-rows", "above-file-rows", "complete-short", "complete-over"],
)
def test_a_broken_count_is_still_reported(
    ledger: Ledger, which: str, counts: dict[str, int]
) -> None:
    first, second = interrupted_then_completed(ledger, first_exit=130)
    broken = first if which == "interrupted" else second
    _set_counts(ledger, broken, counts)
    problems = [p for p in verify_ledger(ledger.store.engine) if p.invariant == "run-counts-add-up"]
    assert [p.ids for p in problems] == [(broken,)], problems
