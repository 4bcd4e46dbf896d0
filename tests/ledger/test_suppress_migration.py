"""Migration 0007: a ledger at 0006 with rows gains the (empty) do-not-call list, keeps its
rows, and its planning checks the list from then on (SQLite and PostgreSQL)."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import command

from pipeline.ledger import ContactRules, open_ledger
from pipeline.ledger.store.engine import alembic_config, open_engine
from pipeline.records import CallItem
from tests.conftest import FakeClock
from tests.ledger.conftest import plan_file, start


def test_a_ledger_at_0006_upgrades_keeps_its_rows_and_then_checks_the_list(
    ledger_url: str, clock: FakeClock
) -> None:
    when = {"t": "2026-03-01 09:00:00"}
    # a campaign, run, input and row written at 0006 (ids above what sequences hand out soon)
    inserts = [
        "INSERT INTO campaigns (id, fingerprint, label, created_at) VALUES (1000, 'fp', '', :t)",
        "INSERT INTO runs (id, campaign_id, command, files, config_digest, host, pid, "
        "started_at) VALUES (1000, 1000, 'upload', '[]', 'd', 'h', 1, :t)",
        "INSERT INTO inputs (id, campaign_id, sha256, name, first_run_id, created_at) "
        "VALUES (1000, 1000, 's', 'old.csv', 1000, :t)",
        "INSERT INTO rows (id, input_id, row_number, run_id, campaign_id, phone, state) "
        "VALUES (1000, 1000, 1, 1000, 1000, '79160000001', 'planned')",
    ]
    engine = open_engine(ledger_url, migrate=False)
    try:
        with engine.begin() as conn:
            cfg = alembic_config()
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "0006")
            for sql in inserts:
                conn.execute(sa.text(sql), when if ":t" in sql else {})
    finally:
        engine.dispose()
    with open_ledger(ledger_url, clock=clock) as ledger:  # to head
        with ledger.store.engine.connect() as conn:
            assert conn.exec_driver_sql("SELECT count(*) FROM suppressions").scalar() == 0
            assert conn.exec_driver_sql("SELECT phone, state FROM rows").all() == [
                ("79160000001", "planned")
            ]
        ledger.suppressions.add(["79160000002"], by="ops")
        s = start(ledger)
        plan_file(s, [CallItem(row=1, phone="79160000002", payload={})], rules=ContactRules())
        with ledger.store.engine.connect() as conn:
            got = conn.exec_driver_sql("SELECT reason_code FROM rows WHERE id <> 1000").scalars()
            assert list(got) == ["suppressed"]
