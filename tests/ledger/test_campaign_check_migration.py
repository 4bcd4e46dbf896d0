"""Migration 0004: campaigns an older ledger already sent to count as checked; others do not."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import command

from pipeline.ledger import open_ledger
from pipeline.ledger.store.engine import alembic_config, open_engine
from pipeline.ledger.store.keys import token_fingerprint
from tests.ledger.conftest import TOKEN


def test_campaigns_with_batches_are_checked_after_the_upgrade(ledger_url: str) -> None:
    engine = open_engine(ledger_url, migrate=False)
    try:
        with engine.begin() as conn:
            cfg = alembic_config()
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "0003")
            when = "2026-11-30 10:00:00"
            conn.execute(
                sa.text(
                    "INSERT INTO campaigns (id, fingerprint, label, created_at) "
                    "VALUES (1, :a, '', :t), (2, :b, '', :t)"
                ),
                {"a": token_fingerprint(TOKEN), "b": token_fingerprint("other"), "t": when},
            )
            conn.execute(
                sa.text(
                    "INSERT INTO batches (id, campaign_id, request_key, generation, body_sha256, "
                    "size, state, created_at, attempts) "
                    "VALUES (1, 1, 'k1', 1, 'd1', 1, 'confirmed', :t, 1)"
                ),
                {"t": when},
            )
    finally:
        engine.dispose()
    with open_ledger(ledger_url) as ledger:  # upgrades to head
        assert ledger.campaigns.ensure(TOKEN).checked
        assert not ledger.campaigns.ensure("other").checked
        assert ledger.campaigns.checked(1) and not ledger.campaigns.checked(2)
