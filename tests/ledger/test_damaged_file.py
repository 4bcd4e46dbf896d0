"""A damaged SQLite ledger says so (exit 7, what to do), in ``verify``, ``upload`` and the
audit commands, instead of a traceback or "check that the database server is running".

The files are really damaged copies of a ledger a real upload wrote: cut in half, pages
overwritten with noise, replaced by a CSV, and an index dropped from the schema with its pages
left behind (only SQLite's integrity check can see that one).
"""

from __future__ import annotations

import random
import sqlite3
from collections.abc import Callable
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from pipeline.cli.main import cli
from pipeline.emulator import Emulator
from pipeline.errors import ExitCode
from tests.conftest import phone

PAGE = 4096
CONFIG = """\
ledger:
  url: sqlite:///{ledger}
columns:
  phone: phone
  payload: {{name: name}}
upload:
  batch_size: 50
"""


def _truncate(path: Path) -> None:
    with path.open("r+b") as fh:
        fh.truncate(path.stat().st_size // 2)


def _overwrite_pages(path: Path) -> None:
    noise = random.Random(7).randbytes(8 * PAGE)
    with path.open("r+b") as fh:
        fh.seek((path.stat().st_size // PAGE // 2) * PAGE)
        fh.write(noise)


def _not_a_database(path: Path) -> None:
    path.write_text("phone,name\n79161234567,Anna\n" * 300, encoding="utf-8")


def _orphan_an_index(path: Path) -> None:
    # The index's pages stay in the file, no longer reachable: every query still works.
    with closing(sqlite3.connect(path)) as conn, conn:
        conn.execute("PRAGMA writable_schema = ON")
        conn.execute("DELETE FROM sqlite_master WHERE type = 'index' AND name = 'ix_rows_phone'")


DAMAGE: dict[str, Callable[[Path], None]] = {
    "truncated": _truncate,
    "overwritten-pages": _overwrite_pages,
    "not-a-database": _not_a_database,
    "orphaned-index": _orphan_an_index,
}


def _csv(path: Path, start: int, n: int) -> Path:
    rows = "".join(f"{phone(start + i)},N{start + i}\n" for i in range(n))
    path.write_text("phone,name\n" + rows, encoding="utf-8")
    return path


class Cli:
    def __init__(self, tmp: Path, emulator: Emulator, token: str) -> None:
        self.ledger = tmp / "ledger.sqlite3"
        self.config = tmp / "c.yaml"
        self.config.write_text(CONFIG.format(ledger=self.ledger), encoding="utf-8")
        self.env = {"JAICP_TOKEN": token, "JAICP_BASE_URL": emulator.base_url}

    def __call__(self, *args: str) -> Result:
        return CliRunner().invoke(cli, [*args, "--config", str(self.config)], env=self.env)


@pytest.fixture
def damaged(
    request: pytest.FixtureRequest, tmp_path: Path, emulator: Emulator, campaign: dict[str, Any]
) -> Cli:
    run = Cli(tmp_path, emulator, campaign["token"])
    done = run("upload", str(_csv(tmp_path / "first.csv", 0, 3000)))
    assert done.exit_code == 0, done.output
    DAMAGE[request.param](run.ledger)
    return run


def _says_damaged(result: Result) -> None:
    assert result.exit_code == ExitCode.VERIFY_FAILED, result.output
    out = result.output
    assert "the ledger file is damaged" in out, out
    assert ".backup" in out and "--new-ledger" in out, out  # what to do: both ways on
    assert "Traceback" not in out and "database server is running" not in out, out


@pytest.mark.parametrize("damaged", sorted(DAMAGE), indirect=True)
def test_verify_says_the_file_is_damaged(damaged: Cli) -> None:
    _says_damaged(damaged("ledger", "verify"))


@pytest.mark.parametrize("damaged", sorted(DAMAGE), indirect=True)
def test_an_audit_command_says_the_file_is_damaged(damaged: Cli) -> None:
    _says_damaged(damaged("ledger", "runs"))


@pytest.mark.parametrize(
    "damaged", ["truncated", "overwritten-pages", "not-a-database"], indirect=True
)
def test_upload_stops_on_a_damaged_file_before_sending(
    damaged: Cli, emulator: Emulator, campaign: dict[str, Any], tmp_path: Path
) -> None:
    sent_before = len(emulator.jobs(campaign["id"]))
    _says_damaged(damaged("upload", str(_csv(tmp_path / "next.csv", 5000, 500))))
    assert len(emulator.jobs(campaign["id"])) == sent_before  # nothing of the new file went out
