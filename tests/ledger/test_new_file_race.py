"""Two processes opening a brand-new SQLite ledger at the same moment (two cron jobs started
together): both must open it. Switching a new file to WAL upgrades a lock, and SQLite answered
one of two simultaneous switches "database is locked" at once, without waiting (~3 % of such
pairs: the second upload exited 3 instead of finding the lease held and exiting 5)."""

from __future__ import annotations

import multiprocessing
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from pipeline.ledger import open_ledger
from pipeline.ledger.store import engine as engine_module
from pipeline.ledger.store.engine import enter_wal

PAIRS = 80


def _open(url: str, start: Any, results: Any) -> None:
    start.wait()
    try:
        with open_ledger(url):
            pass
        results.put("ok")
    except Exception as exc:  # the failure is what is reported
        results.put(f"{type(exc).__name__}: {exc}")


@pytest.mark.slow
def test_pairs_of_processes_open_a_new_ledger_together(tmp_path: Path) -> None:
    context = multiprocessing.get_context("fork")
    failures = []
    for pair in range(PAIRS):
        url = f"sqlite:///{tmp_path / f'ledger{pair}.sqlite3'}"
        start, results = context.Barrier(2), context.Queue()
        procs = [context.Process(target=_open, args=(url, start, results)) for _ in range(2)]
        for proc in procs:
            proc.start()
        for proc in procs:
            proc.join(timeout=60)
        failures += [r for r in (results.get(timeout=5) for _ in procs) if r != "ok"]
    assert failures == []


class _LockedCursor:
    """A real sqlite3 cursor whose first ``locked`` switches to WAL fail as SQLite's immediate
    SQLITE_BUSY does (the real race is timing-dependent; this makes it certain)."""

    def __init__(self, cursor: sqlite3.Cursor, locked: int, error: str = "database is locked"):
        self.cursor, self.locked, self.error, self.tries = cursor, locked, error, 0

    def execute(self, sql: str) -> sqlite3.Cursor:
        if "journal_mode" in sql:
            self.tries += 1
            if self.tries <= self.locked:
                raise sqlite3.OperationalError(self.error)
        return self.cursor.execute(sql)


def test_a_busy_switch_to_wal_is_tried_again(tmp_path: Path) -> None:
    connection = sqlite3.connect(tmp_path / "new.sqlite3")
    cursor = _LockedCursor(connection.cursor(), locked=3)
    slept: list[float] = []
    enter_wal(cursor, sleep=slept.append)
    assert cursor.tries == 4 and len(slept) == 3
    assert connection.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    connection.close()


def test_a_switch_locked_for_longer_than_the_busy_timeout_fails(tmp_path: Path) -> None:
    connection = sqlite3.connect(tmp_path / "new.sqlite3")
    cursor = _LockedCursor(connection.cursor(), locked=10**6)
    slept: list[float] = []
    with pytest.raises(sqlite3.OperationalError, match="locked"):
        enter_wal(cursor, sleep=slept.append)
    assert sum(slept) == pytest.approx(engine_module.BUSY_TIMEOUT_MS / 1000, abs=0.02)
    connection.close()


def test_other_errors_are_not_retried(tmp_path: Path) -> None:
    connection = sqlite3.connect(tmp_path / "new.sqlite3")
    cursor = _LockedCursor(connection.cursor(), locked=1, error="disk I/O error")
    with pytest.raises(sqlite3.OperationalError, match="disk"):
        enter_wal(cursor, sleep=lambda _: None)
    assert cursor.tries == 1
    connection.close()
