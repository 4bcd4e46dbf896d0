"""Migration 0008: an existing ledger gains rows.phone_column; its rows keep NULL (which column
their number came from was not recorded) and planned rows carry it, through the forked reader's
pickled form too."""

from __future__ import annotations

import pickle

import sqlalchemy as sa
from alembic import command

from pipeline.ledger import open_ledger
from pipeline.ledger.store import schema as t
from pipeline.ledger.store.engine import alembic_config, open_engine
from pipeline.ledger.transitions.row_values import (
    PHONE_COLUMN,
    ROW_COLS,
    chunk_values,
    prepare_chunk,
)
from pipeline.records import CallItem, Rejection

WHEN = "2026-12-01 10:00:00"


def test_an_existing_ledger_upgrades_and_keeps_its_rows(ledger_url: str) -> None:
    engine = open_engine(ledger_url, migrate=False)
    try:
        with engine.begin() as conn:
            cfg = alembic_config()
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "0007")
            conn.execute(
                sa.text(
                    "INSERT INTO campaigns (id, fingerprint, label, created_at) "
                    "VALUES (1, 'fp', '', :t)"
                ),
                {"t": WHEN},
            )
            conn.execute(
                sa.text(
                    "INSERT INTO runs (id, campaign_id, command, files, config_digest, host, "
                    "pid, started_at) VALUES (1, 1, 'upload', '[]', 'd', 'h', 1, :t)"
                ),
                {"t": WHEN},
            )
            conn.execute(
                sa.text(
                    "INSERT INTO inputs (id, campaign_id, sha256, name, first_run_id, "
                    "created_at) VALUES (1, 1, 's', 'old.csv', 1, :t)"
                ),
                {"t": WHEN},
            )
            conn.execute(
                sa.text(
                    "INSERT INTO rows (id, input_id, row_number, run_id, campaign_id, phone, "
                    "state, zone_source) VALUES (1, 1, 1, 1, 1, '79161234567', 'sent', 'policy')"
                )
            )
    finally:
        engine.dispose()
    with open_ledger(ledger_url) as ledger, ledger.store.engine.connect() as conn:  # to head
        rows = conn.execute(
            sa.select(t.rows.c.phone, t.rows.c.zone_source, t.rows.c.phone_column)
        ).all()
    assert [tuple(row) for row in rows] == [("79161234567", "policy", None)]


def test_planned_rows_carry_the_phone_column_and_other_rows_null() -> None:
    work = CallItem(1, "79161234567", {}, {}, phone_column="Рабочий телефон")
    first = CallItem(2, "79161234568", {})
    bad = Rejection(3, "Мобильный телефон", "phone_invalid", "not a number")
    values = chunk_values([work, first, bad], "f" * 32, (1, 1, 1))
    assert ROW_COLS[PHONE_COLUMN] == "phone_column"
    assert [v[PHONE_COLUMN] for v in values] == ["Рабочий телефон", None, None]
    # the forked reader sends prepared chunks pickled column by column
    again = pickle.loads(pickle.dumps(prepare_chunk([work, first, bad], "f" * 32, (1, 1, 1))))
    assert [v[PHONE_COLUMN] for v in again.values] == ["Рабочий телефон", None, None]
    # where the number came from is not part of the row's identity: re-runs stay repeats
    key = ROW_COLS.index("row_key")
    assert values[0][key] == chunk_values([CallItem(1, "79161234567")], "f" * 32, (1, 1, 1))[0][key]
