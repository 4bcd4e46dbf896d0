"""A ledger that is out of reach for a while ends the run with exit 3 and a message naming the
cause, not exit 1 — and never with a row recorded as sent that was not.

Real failures, each at the worst moment (a batch's request has left, its reply has arrived,
its outcome is not recorded yet) or as the run starts:

* SQLite locked by another program (the test holds ``BEGIN IMMEDIATE`` through the ``sqlite3``
  module) for longer than the busy wait (shortened to 0.2 s here so the test does not wait 30 s);
* SQLite's disk full (``SQLITE_FULL``, made real by ``PRAGMA max_page_count`` on the uploader's
  connections);
* PostgreSQL's connection terminated (``pg_terminate_backend`` from the test).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path
from typing import Any

import pytest
import requests
import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Engine

from pipeline.emulator import Emulator
from pipeline.errors import ExitCode
from pipeline.ledger import open_ledger
from pipeline.ledger.admin.verify import verify_ledger
from tests.conftest import PG_ADMIN_URL, phone, postgres_database
from tests.load.conftest import Uploader, jobs_per_phone
from tests.load.wire import ended, hooked_client

ROWS = 30  # three batches of 10


class Locker:
    """Another program holding the SQLite ledger's write lock."""

    def __init__(self, path: Path) -> None:
        self.conn = sqlite3.connect(path, isolation_level=None)
        self.held = False

    def lock(self, *_: object) -> None:
        if not self.held:
            self.conn.execute("BEGIN IMMEDIATE")
            self.held = True

    def release(self) -> None:
        if self.held:
            self.conn.execute("ROLLBACK")
            self.held = False

    def close(self) -> None:
        self.release()
        self.conn.close()


@pytest.fixture
def short_busy_wait(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("pipeline.ledger.store.engine.BUSY_TIMEOUT_MS", 200)


def _ledger_path(uploader: Uploader) -> Path:
    return Path(uploader.ledger_url.removeprefix("sqlite:///"))


def assert_ledger_tells_the_truth(uploader: Uploader, emulator: Emulator, campaign_id: int) -> None:
    """Every row the ledger marks sent has that very job on the server; verify is clean."""
    server = {str(job["id"]): job["phone"] for job in emulator.jobs(campaign_id)}
    with open_ledger(uploader.ledger_url) as ledger:
        with ledger.store.engine.connect() as conn:
            sent = conn.exec_driver_sql("SELECT phone, job_id FROM rows WHERE state = 'sent'").all()
        assert verify_ledger(ledger.store.engine) == []
    assert all(server.get(str(job_id)) == p for p, job_id in sent), sent


def _finish_cleanly(uploader: Uploader, emulator: Emulator, campaign: dict[str, Any]) -> None:
    # The failed run could not record its end (nor release its lease): wait the lease out.
    uploader.clock.advance(uploader.config().upload.lease_ttl_s + 1)
    code, message = ended(lambda: uploader.run(uploader.csv(ROWS)))
    assert code == ExitCode.OK, message
    assert jobs_per_phone(emulator, campaign["id"]) == {phone(i): 1 for i in range(ROWS)}
    assert_ledger_tells_the_truth(uploader, emulator, campaign["id"])


@pytest.mark.usefixtures("short_busy_wait")
def test_a_ledger_locked_as_the_run_starts_exits_3_naming_the_lock(
    uploader: Uploader, emulator: Emulator, campaign: dict[str, Any]
) -> None:
    open_ledger(uploader.ledger_url).close()  # the ledger exists; another program locks it
    locker = Locker(_ledger_path(uploader))
    try:
        locker.lock()
        code, message = ended(lambda: uploader.run(uploader.csv(ROWS)))
    finally:
        locker.close()
    assert code == ExitCode.PENDING, message
    assert "locked by another program" in message and "Run again" in message, message
    assert uploader.add_phones_log() == []
    uploader.files = 0  # the same file again
    _finish_cleanly(uploader, emulator, campaign)


@pytest.mark.usefixtures("short_busy_wait")
def test_a_ledger_locked_while_a_reply_is_in_flight_records_nothing_false(
    uploader: Uploader, emulator: Emulator, campaign: dict[str, Any]
) -> None:
    csv = uploader.csv(ROWS)
    open_ledger(uploader.ledger_url).close()
    locker = Locker(_ledger_path(uploader))
    try:
        # The first reply has arrived; its outcome cannot be written.
        make = hooked_client(uploader, after=locker.lock)
        code, message = ended(lambda: uploader.run(csv, client=make))
        with closing(sqlite3.connect(_ledger_path(uploader))) as reader:
            states = dict(reader.execute("SELECT state, count(*) FROM rows GROUP BY state"))
            batches = [s for (s,) in reader.execute("SELECT state FROM batches ORDER BY id")]
    finally:
        locker.close()
    assert code == ExitCode.PENDING, message
    assert "locked by another program" in message, message
    assert len(emulator.jobs(campaign["id"])) == 10  # the first batch was created ...
    assert "sent" not in states, states  # ... but the ledger does not claim it
    assert batches[0] == "sending", batches  # in doubt under its key: the next run resends it
    assert len(uploader.add_phones_log()) == 1
    uploader.files = 0
    _finish_cleanly(uploader, emulator, campaign)
    replays = [e for e in uploader.add_phones_log() if e["replayed"]]
    assert len(replays) == 1  # the first batch, answered from the server's key store


def _cap_pages(dbapi_connection: Any, _record: Any) -> None:
    (pages,) = dbapi_connection.execute("PRAGMA page_count").fetchone()
    dbapi_connection.execute(f"PRAGMA max_page_count = {pages}")


@contextmanager
def full_disk() -> Iterator[None]:
    """Every new SQLite connection may not grow its file: a disk with no space left."""
    event.listen(Engine, "connect", _cap_pages)
    try:
        yield
    finally:
        event.remove(Engine, "connect", _cap_pages)


def test_a_full_disk_exits_3_naming_it(
    uploader: Uploader, emulator: Emulator, campaign: dict[str, Any]
) -> None:
    first = uploader.run(uploader.csv(ROWS))
    assert first.exit_code == ExitCode.OK, first.lines()
    tonight = uploader.csv(300, start=ROWS)
    with full_disk():
        code, message = ended(lambda: uploader.run(tonight))
    assert code == ExitCode.PENDING, message
    assert "is full" in message and "free space" in message, message
    assert len(uploader.add_phones_log()) == ROWS // 10  # nothing of tonight's file went out
    assert_ledger_tells_the_truth(uploader, emulator, campaign["id"])

    uploader.clock.advance(uploader.config().upload.lease_ttl_s + 1)
    again = uploader.run(tonight)
    assert again.exit_code == ExitCode.OK, again.lines()
    assert jobs_per_phone(emulator, campaign["id"]) == {phone(i): 1 for i in range(ROWS + 300)}
    assert_ledger_tells_the_truth(uploader, emulator, campaign["id"])


@pytest.fixture
def pg_uploader(emulator: Emulator, campaign: dict[str, Any], tmp_path: Path) -> Iterator[Uploader]:
    for url in postgres_database():
        yield Uploader(emulator, campaign["token"], tmp_path, url)


def _terminate_the_runs_connections(ledger_url: str) -> None:
    database = sa.make_url(ledger_url).database
    admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            ended_ = conn.execute(
                sa.text(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                    "WHERE datname = :db AND pid <> pg_backend_pid()"
                ),
                {"db": database},
            ).scalar_one()
        assert ended_ >= 1
    finally:
        admin.dispose()


def test_a_postgresql_connection_terminated_mid_run_exits_3(
    pg_uploader: Uploader, emulator: Emulator, campaign: dict[str, Any]
) -> None:
    uploader = pg_uploader
    csv = uploader.csv(ROWS)
    terminated: list[bool] = []

    def terminate(_request: requests.PreparedRequest) -> None:
        if not terminated:
            _terminate_the_runs_connections(uploader.ledger_url)
            terminated.append(True)

    # A long lease: its renewal (every quarter of it) must not be the first to meet the
    # terminated connection.
    make = hooked_client(uploader, after=terminate, lease_ttl_s=3600)
    code, message = ended(lambda: uploader.run(csv, client=make, lease_ttl_s=3600))
    assert code == ExitCode.PENDING, message
    assert "connection" in message and "Run again" in message, message
    assert len(emulator.jobs(campaign["id"])) == 10
    with open_ledger(uploader.ledger_url) as ledger, ledger.store.engine.connect() as conn:
        sent = conn.exec_driver_sql("SELECT count(*) FROM rows WHERE state = 'sent'").scalar()
    assert sent == 0
    uploader.files = 0
    _finish_cleanly(uploader, emulator, campaign)
