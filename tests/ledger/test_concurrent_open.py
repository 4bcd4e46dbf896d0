"""Several hosts opening a brand-new PostgreSQL ledger at the same moment: the first one
migrates it, the others wait for that and find it ready (the race was seen with three
uploaders started together: two failed on Alembic's CREATE TABLE alembic_version)."""

from __future__ import annotations

import subprocess
import sys
import threading

import sqlalchemy as sa

from pipeline.ledger import open_ledger, token_fingerprint, utc_now
from pipeline.ledger.store import schema as t

OPEN = "import sys; from pipeline.ledger import open_ledger; open_ledger(sys.argv[1]).close()"


def test_processes_opening_a_new_postgresql_ledger_together_all_succeed(pg_url: str) -> None:
    procs = [
        subprocess.Popen([sys.executable, "-c", OPEN, pg_url], stderr=subprocess.PIPE, text=True)
        for _ in range(5)
    ]
    errors = [p.communicate(timeout=120)[1] for p in procs]
    assert [p.returncode for p in procs] == [0] * 5, "\n".join(errors)
    engine = sa.create_engine(pg_url)
    try:
        with engine.connect() as conn:
            versions = conn.exec_driver_sql("SELECT version_num FROM alembic_version").all()
    finally:
        engine.dispose()
    assert len(versions) == 1


def test_a_campaign_created_by_another_host_at_the_same_moment_is_found(pg_url: str) -> None:
    """Our INSERT of the campaign waits on another host's uncommitted INSERT of the same
    fingerprint, then fails on the unique key once that commits: we must find its row, not fail."""
    token = "1000.2000.racingCampaignToken"
    with open_ledger(pg_url) as ledger:
        other = sa.create_engine(pg_url)
        try:
            with other.connect() as conn:
                tx = conn.begin()
                conn.execute(
                    sa.insert(t.campaigns).values(
                        fingerprint=token_fingerprint(token), label="", created_at=utc_now()
                    )
                )
                found: list[int] = []
                racer = threading.Thread(
                    target=lambda: found.append(ledger.campaigns.ensure(token).id)
                )
                racer.start()
                racer.join(timeout=1.0)  # it is blocked on our uncommitted row
                assert racer.is_alive()
                tx.commit()
                racer.join(timeout=30)
        finally:
            other.dispose()
        assert found == [ledger.campaigns.ensure(token).id]
