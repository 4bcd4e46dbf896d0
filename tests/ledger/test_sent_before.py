"""What earlier runs had sent of a run's files (``ledger.runs.sent_rows``), asked at its start.

* a file the campaign has never seen: 0, without a count;
* while a row of the campaign is planned or a batch is open, the rows sent so far are counted;
* when every file was planned completely and nothing is planned or open, no row of them can be
  sent any more: None ("the same as at the end"), and ``runs.finish(all_sent_before=True)``
  records the end's sent count as ``sent_before`` — the re-run of a finished file scans its
  rows once, not twice.
"""

from __future__ import annotations

import json

import sqlalchemy as sa

from pipeline.ledger import Ledger
from tests.ledger.conftest import ScalarQuery, items, plan_file, start

SHA = "ab" * 32


def _set(ledger: Ledger, sql: str) -> None:
    with ledger.store.engine.begin() as conn:
        conn.exec_driver_sql(sql)


def test_a_file_never_seen_had_nothing_sent(ledger: Ledger) -> None:
    s = start(ledger)
    assert ledger.runs.sent_rows(s.campaign_id, ["cd" * 32]) == 0


def test_rows_sent_so_far_are_counted_while_anything_may_still_be_sent(
    ledger: Ledger, scalar: ScalarQuery
) -> None:
    s = start(ledger)
    plan_file(s, items(6), sha=SHA)
    # three sent, three still planned: more of the file can be sent in this run
    _set(ledger, "UPDATE rows SET state = 'sent' WHERE row_number <= 3")
    assert ledger.runs.sent_rows(s.campaign_id, [SHA]) == 3
    # nothing planned, but a batch still open (its rows may be confirmed in this run)
    _set(ledger, "UPDATE rows SET state = 'sent' WHERE row_number <= 5")
    _set(ledger, "UPDATE rows SET state = 'batched' WHERE row_number = 6")
    _set(
        ledger,
        f"INSERT INTO batches (campaign_id, request_key, generation, body_sha256, size, state, "
        f"created_at, attempts) VALUES ({s.campaign_id}, 'k', 1, 'd', 1, 'unknown', "
        f"'2026-03-01 09:00:00', 1)",
    )
    assert scalar("SELECT count(*) FROM batches WHERE state = 'unknown'") == 1
    assert ledger.runs.sent_rows(s.campaign_id, [SHA]) == 5


def test_a_finished_file_is_counted_once_at_the_end(ledger: Ledger) -> None:
    s = start(ledger)
    plan_file(s, items(6), sha=SHA)
    _set(ledger, "UPDATE rows SET state = 'sent'")
    assert ledger.runs.sent_rows(s.campaign_id, [SHA]) is None
    # one of the run's files never seen before, or planned only in part: counted
    assert ledger.runs.sent_rows(s.campaign_id, [SHA, "cd" * 32]) == 6
    _set(ledger, "UPDATE inputs SET rows_total = NULL")
    assert ledger.runs.sent_rows(s.campaign_id, [SHA]) == 6
    _set(ledger, "UPDATE inputs SET rows_total = 6")

    counts = ledger.runs.finish(s.run_id, exit_status=0, all_sent_before=True)
    assert (counts["sent"], counts["sent_before"]) == (6, 6)
    with ledger.store.engine.connect() as conn:
        stored = conn.execute(sa.text(f"SELECT counts FROM runs WHERE id = {s.run_id}")).scalar()
    assert json.loads(str(stored))["sent_before"] == 6
