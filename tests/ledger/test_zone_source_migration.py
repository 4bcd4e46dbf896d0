"""Migration 0006: an existing ledger gains rows.zone_source; its rows keep NULL (no decision
was recorded for them) and new rows record how their zone was decided."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import command

from pipeline.ledger import open_ledger
from pipeline.ledger.store import schema as t
from pipeline.ledger.store.engine import alembic_config, open_engine
from pipeline.ledger.transitions.row_values import ROW_COLS, ZONE_SOURCE, chunk_values
from pipeline.records import CallItem


def test_an_existing_ledger_upgrades_and_keeps_its_rows(ledger_url: str) -> None:
    engine = open_engine(ledger_url, migrate=False)
    try:
        with engine.begin() as conn:
            cfg = alembic_config()
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "0005")
            when = "2026-12-01 10:00:00"
            conn.execute(
                sa.text(
                    "INSERT INTO campaigns (id, fingerprint, label, created_at) "
                    "VALUES (1, 'fp', '', :t)"
                ),
                {"t": when},
            )
            conn.execute(
                sa.text(
                    "INSERT INTO runs (id, campaign_id, command, files, config_digest, host, "
                    "pid, started_at) VALUES (1, 1, 'upload', '[]', 'd', 'h', 1, :t)"
                ),
                {"t": when},
            )
            conn.execute(
                sa.text(
                    "INSERT INTO inputs (id, campaign_id, sha256, name, first_run_id, "
                    "created_at) VALUES (1, 1, 's', 'old.csv', 1, :t)"
                ),
                {"t": when},
            )
            conn.execute(
                sa.text(
                    "INSERT INTO rows (id, input_id, row_number, run_id, campaign_id, phone, "
                    "state) VALUES (1, 1, 1, 1, 1, '79161234567', 'planned')"
                )
            )
    finally:
        engine.dispose()
    with open_ledger(ledger_url) as ledger, ledger.store.engine.connect() as conn:  # to head
        rows = conn.execute(sa.select(t.rows.c.phone, t.rows.c.zone_source)).all()
    assert rows == [("79161234567", None)]


def test_planned_rows_carry_their_zone_source() -> None:
    item = CallItem(1, "79241234567", {}, {"gmtZone": "Asia/Vladivostok"}, "mobile_range", {})
    (values,) = chunk_values([item], "f" * 32, (1, 1, 1))
    assert ROW_COLS[ZONE_SOURCE] == "zone_source" and values[ZONE_SOURCE] == "mobile_range"
    plain = CallItem(1, "79241234567", {}, {})
    # the decided zone is left out of the row's identity: same key as the row without it
    assert values[ROW_COLS.index("row_key")] == chunk_values([plain], "f" * 32, (1, 1, 1))[0][5]
