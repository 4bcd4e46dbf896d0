"""Folders the tool creates are 0700 whatever the umask; an existing ledger file (and its WAL
files) readable by others is narrowed to 0600, with a warning naming the file."""

from __future__ import annotations

import logging
import os
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from click.testing import CliRunner

from pipeline.cli.main import cli
from pipeline.ledger import open_ledger
from pipeline.private import make_private_dirs
from tests.ledger.conftest import start

ROOT = Path(__file__).resolve().parent.parent
UMASKS = [0o000, 0o022, 0o277]  # wide open, the usual one, one that takes the user's bits


@contextmanager
def umask(mask: int) -> Iterator[None]:
    old = os.umask(mask)
    try:
        yield
    finally:
        os.umask(old)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.parametrize("mask", UMASKS, ids=oct)
def test_created_folders_are_0700_and_existing_ones_are_left_alone(
    tmp_path: Path, mask: int
) -> None:
    tmp_path.chmod(0o755)  # the operator's own folder
    with umask(mask):
        make_private_dirs(tmp_path / "a" / "b" / "c")
    assert [mode(tmp_path / p) for p in ("a", "a/b", "a/b/c")] == [0o700] * 3
    assert mode(tmp_path) == 0o755


@pytest.mark.parametrize("mask", UMASKS, ids=oct)
def test_the_ledger_folder_is_created_0700(tmp_path: Path, mask: int) -> None:
    path = tmp_path / "var" / "jaicp" / "ledger.sqlite3"
    with umask(mask), open_ledger(f"sqlite:///{path}") as ledger:
        start(ledger)
        names = ("ledger.sqlite3", "ledger.sqlite3-wal", "ledger.sqlite3-shm")
        assert {f.name: mode(f) for f in path.parent.iterdir()} == dict.fromkeys(names, 0o600)
    assert mode(tmp_path / "var") == mode(path.parent) == 0o700


def test_a_ledger_readable_by_others_is_narrowed_with_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "ledger.sqlite3"
    url = f"sqlite:///{path}"
    holder = open_ledger(url)  # keeps the WAL files in place while the ledger is reopened
    try:
        start(holder)
        files = [path, tmp_path / "ledger.sqlite3-wal", tmp_path / "ledger.sqlite3-shm"]
        for file in files:
            file.chmod(0o644)  # e.g. restored from a backup by another tool
        with caplog.at_level(logging.WARNING, logger="pipeline.ledger"):
            open_ledger(url, must_exist=True).close()
        assert [mode(f) for f in files] == [0o600] * 3
        warned = " ".join(r.getMessage() for r in caplog.records)
        for file in files:
            assert f"{file} could be read by other users (mode 0644)" in warned, warned
        caplog.clear()
        with caplog.at_level(logging.WARNING, logger="pipeline.ledger"):
            open_ledger(url, must_exist=True).close()
        assert caplog.records == []  # once private, nothing more to say
    finally:
        holder.close()


def test_validate_creates_its_batch_folder_0700(tmp_path: Path) -> None:
    folder = tmp_path / "out" / "batches"
    with umask(0o022):
        result = CliRunner().invoke(
            cli,
            [
                "validate",
                "--config",
                str(ROOT / "tests" / "cli" / "validate_samples.yaml"),
                str(ROOT / "sample_data" / "bad_phones.csv"),
                "--emit-batches",
                str(folder),
            ],
        )
    assert result.exit_code == 0, result.output
    assert mode(tmp_path / "out") == mode(folder) == 0o700
