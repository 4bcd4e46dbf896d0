"""``ledger purge``: old finished rows lose personal data, the audit trail stays (both DBs)."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from pipeline.cli.main import cli
from pipeline.ledger import Ledger
from pipeline.ledger.admin.purge import parse_duration, purge_ledger
from pipeline.ledger.admin.verify import verify_ledger
from pipeline.ledger.store import schema as t
from pipeline.records import Duplicate, Rejection
from tests.conftest import FakeClock
from tests.ledger.conftest import ColumnQuery, ScalarQuery, body_for, items, start
from tests.ledger.conftest import plan_file as plan


def build(ledger: Ledger) -> None:
    """Rows 1-2 sent (row 1 with a stored report), 5 rejected, 6 duplicate, 3-4 in doubt.

    Rejected and duplicate rows are planned without phone or payload; row 5's message quotes
    its cell, as field errors do.
    """
    s = start(ledger)
    plan(
        s, [*items(4), Rejection(5, "phone", "payload_invalid", "'Ivan, 12' bad"), Duplicate(6, 1)]
    )
    ledger.freezing.freeze_batches(s.lease, batch_size=2, body_for=body_for)
    first, second = ledger.sending.claim_sendable(s.lease, limit=5)
    ledger.sending.mark_attempt(s.lease, first.id)
    ledger.replies.record_success(s.lease, first.id, ["job-1", "job-2"])
    ledger.sending.mark_attempt(s.lease, second.id)
    ledger.replies.record_unknown(s.lease, second.id, error="timeout")
    ledger.runs.finish(s.run_id, exit_status=3)
    ledger.leases.release(s.lease)
    with ledger.store.engine.begin() as conn:
        row_id = conn.execute(sa.select(t.rows.c.id).where(t.rows.c.job_id == "job-1")).scalar()
        conn.execute(
            sa.insert(t.job_outcomes).values(
                row_id=row_id,
                job_id="job-1",
                job_status="completed",
                report_data='{"client":"Ivan"}',
                fetched_at=ledger.store.now(),
            )
        )


def test_durations() -> None:
    assert parse_duration("90d") == timedelta(days=90)
    assert parse_duration("12h") == timedelta(hours=12)
    assert parse_duration("2W") == timedelta(weeks=2)
    with pytest.raises(ValueError, match=r"e\.g\. 90d"):
        parse_duration("90 days")


def test_purge_drops_personal_data_and_keeps_the_trail(
    ledger: Ledger, clock: FakeClock, column: ColumnQuery, scalar: ScalarQuery
) -> None:
    build(ledger)
    events_before = scalar("SELECT count(*) FROM events")
    clock.advance(days=91)
    result = purge_ledger(ledger.store, cutoff=clock.now - timedelta(days=90))
    assert (result.rows, result.reports) == (3, 1)
    purged = "row_number IN (1, 2, 5, 6)"
    assert column(f"SELECT phone FROM rows WHERE {purged}") == [None] * 4
    assert column(f"SELECT payload FROM rows WHERE {purged}") == [None] * 4
    # Rows still in doubt keep everything: they may have to be reconciled by phone.
    assert None not in column("SELECT phone FROM rows WHERE row_number IN (3, 4)")
    assert None not in column("SELECT row_key FROM rows WHERE row_number IN (1, 2)")
    assert sorted(map(str, column("SELECT job_id FROM rows WHERE job_id IS NOT NULL"))) == [
        "job-1",
        "job-2",
    ]
    assert column("SELECT reason_code FROM rows WHERE state = 'rejected'") == ["payload_invalid"]
    assert column("SELECT reason FROM rows WHERE state = 'rejected'") == [None]
    assert column("SELECT report_data FROM job_outcomes") == [None]
    assert column("SELECT job_status FROM job_outcomes") == ["completed"]
    reasons = column("SELECT reason FROM events WHERE substr(reason, 1, 6) = 'purge:'")
    assert len(reasons) == 1
    assert "3 finished row(s)" in str(reasons[0])
    assert scalar("SELECT count(*) FROM events") == int(str(events_before)) + 1
    assert verify_ledger(ledger.store.engine) == []
    # Idempotent: a second purge selects nothing and records nothing.
    again = purge_ledger(ledger.store, cutoff=clock.now - timedelta(days=90))
    assert (again.rows, again.reports, again.runs) == (0, 0, {})
    assert column("SELECT count(*) FROM events WHERE substr(reason, 1, 6) = 'purge:'") == [1]


def test_recent_runs_are_not_purged(ledger: Ledger, clock: FakeClock, column: ColumnQuery) -> None:
    build(ledger)
    clock.advance(days=89)
    assert purge_ledger(ledger.store, cutoff=clock.now - timedelta(days=90)).rows == 0
    assert column("SELECT count(*) FROM rows WHERE phone IS NULL") == [2]


def test_cli_purge_asks_then_purges(ledger_url: str, ledger: Ledger, column: ColumnQuery) -> None:
    # The fixture's clock is in the past of the real clock the CLI uses: 1d covers the run.
    build(ledger)
    runner = CliRunner()
    args = ["ledger", "purge", "--older-than", "1d", "--ledger", ledger_url]
    declined = runner.invoke(cli, args, input="n\n")
    assert declined.exit_code == 1, declined.output
    assert "3 row(s) of 1 run(s)" in declined.output
    assert column("SELECT count(*) FROM rows WHERE phone IS NULL") == [2]
    done = runner.invoke(cli, [*args, "--yes"])
    assert done.exit_code == 0, done.output
    assert "purged 3 row(s) and 1 report(s)" in done.output
    assert column("SELECT count(*) FROM rows WHERE phone IS NULL") == [4]
    again = runner.invoke(cli, [*args, "--yes"])
    assert "nothing to purge" in again.output
    assert runner.invoke(cli, ["ledger", "verify", "--ledger", ledger_url]).exit_code == 0


def test_cli_rejects_a_bad_duration(ledger_url: str, ledger: Ledger) -> None:
    got = CliRunner().invoke(
        cli, ["ledger", "purge", "--older-than", "soon", "--ledger", ledger_url]
    )
    assert got.exit_code == 2
    assert "e.g. 90d" in got.output
