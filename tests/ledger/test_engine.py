"""Opening a ledger: private file, SQLite settings, migrations that match the models."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from pipeline.errors import LedgerError
from pipeline.ledger import Ledger, open_ledger
from pipeline.ledger.store.engine import alembic_config
from pipeline.ledger.store.schema import metadata
from tests.conftest import FakeClock
from tests.ledger.conftest import TOKEN, start


def test_sqlite_file_and_its_wal_are_private(tmp_path: Path, clock: FakeClock) -> None:
    path = tmp_path / "sub" / "ledger.sqlite3"
    with open_ledger(f"sqlite:///{path}", clock=clock) as ledger:
        start(ledger)
        for file in tmp_path.joinpath("sub").iterdir():
            assert stat.S_IMODE(file.stat().st_mode) == 0o600, file


def test_sqlite_connection_settings(tmp_path: Path) -> None:
    with (
        open_ledger(f"sqlite:///{tmp_path / 'l.sqlite3'}") as ledger,
        ledger.store.engine.connect() as conn,
    ):
        pragma = {
            name: conn.exec_driver_sql(f"PRAGMA {name}").scalar()
            for name in (
                "journal_mode",
                "synchronous",
                "foreign_keys",
                "busy_timeout",
                "cache_size",
            )
        }
    assert pragma == {
        "journal_mode": "wal",
        "synchronous": 2,  # FULL
        "foreign_keys": 1,
        "busy_timeout": 30_000,
        "cache_size": -64 * 1024,  # KiB: the bound of each connection's page cache (issue 14)
    }


def test_migrations_reach_head_and_match_the_models(ledger: Ledger) -> None:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    with ledger.store.engine.connect() as conn:
        context = MigrationContext.configure(conn)
        assert context.get_current_revision() == head
        assert compare_metadata(context, metadata) == []


def test_reopening_a_migrated_ledger_keeps_its_data(ledger_url: str, clock: FakeClock) -> None:
    with open_ledger(ledger_url, clock=clock) as first:
        campaign = first.campaigns.ensure(TOKEN)
    with open_ledger(ledger_url, clock=clock) as second:
        assert second.campaigns.ensure(TOKEN) == campaign


def test_the_token_is_never_stored(ledger: Ledger) -> None:
    start(ledger)
    with ledger.store.engine.connect() as conn:
        for table in metadata.sorted_tables:
            for row in conn.execute(table.select()):
                assert not any(TOKEN in str(v) for v in row), table.name


def test_audit_open_does_not_create_a_ledger(tmp_path: Path) -> None:
    missing = tmp_path / "nope.sqlite3"
    with pytest.raises(LedgerError, match="there is no ledger"):
        open_ledger(f"sqlite:///{missing}", must_exist=True)
    assert not missing.exists()


def test_unreachable_database_is_a_ledger_error_worth_a_retry() -> None:
    with pytest.raises(LedgerError, match="cannot open the ledger") as info:
        open_ledger("postgresql+psycopg://postgres:s3cret@127.0.0.1:1/none")
    assert "s3cret" not in str(info.value)
    assert "Connection refused" in str(info.value)  # the cause, in the driver's words
    assert info.value.exit_code == 3  # transient: run again later


def test_naive_clock_is_refused(tmp_path: Path) -> None:
    from datetime import datetime

    with (
        open_ledger(f"sqlite:///{tmp_path / 'l.sqlite3'}", clock=datetime.now) as ledger,
        pytest.raises(ValueError, match="aware"),
    ):
        ledger.campaigns.ensure(TOKEN)


def test_a_ledger_file_created_by_another_run_meanwhile_is_used(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two runs opening a new SQLite ledger together: the other one creates the file between
    our existence check and our exclusive create (simulated: the check says "absent")."""
    from pipeline.ledger.store import engine

    path = tmp_path / "ledger.sqlite3"
    path.touch(mode=0o600)
    monkeypatch.setattr(Path, "exists", lambda _self: False)
    engine._create_private_file(str(path))  # must not raise FileExistsError
    monkeypatch.undo()
    assert path.stat().st_mode & 0o777 == 0o600
