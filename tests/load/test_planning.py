"""Planning a file with its reader in a forked process: the same rows, states and batches as
in-process; the reader's errors arrive as themselves; its sudden death is told plainly."""

from __future__ import annotations

import os
import signal
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from pipeline.emulator import Emulator
from pipeline.errors import ConfigError, ExitCode, InputFileError, PipelineError
from pipeline.ledger import open_ledger
from pipeline.ledger.admin.verify import verify_ledger
from pipeline.load.upload import input_planning as planning
from tests.conftest import phone
from tests.load.conftest import Uploader, jobs_per_phone, write_csv


def _rows(tmp_path: Path, name: str) -> Path:
    rows = [(phone(i), f"N{i}") for i in range(95)]
    rows += [("not a phone", "X"), (phone(3), "N3")]  # one rejected, one in-file duplicate
    return write_csv(tmp_path / name, rows)


def _ledger_rows(url: str) -> list[tuple[Any, ...]]:
    with open_ledger(url) as ledger:
        assert verify_ledger(ledger.store.engine) == []
        with ledger.store.engine.connect() as conn:
            got = conn.exec_driver_sql(
                "SELECT r.row_number, r.state, r.phone, r.payload, r.reason_code, "
                "br.position, b.size, b.body_sha256 FROM rows r "
                "LEFT JOIN batch_rows br ON br.row_id = r.id "
                "LEFT JOIN batches b ON b.id = br.batch_id ORDER BY r.row_number"
            )
            return [tuple(row) for row in got]


def test_a_forked_reader_plans_what_the_in_process_one_does(
    uploader: Uploader,
    emulator: Emulator,
    campaign: dict[str, Any],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(planning, "PLAN_ROWS", 30)  # several chunks through the child's stream
    forked: list[bool] = []
    real = planning.fork_reader

    def spy(path: Path) -> bool:
        forked.append(real(path))
        return forked[-1]

    monkeypatch.setattr(planning, "fork_reader", spy)
    results = []
    for workers in ("1", "2"):
        monkeypatch.setenv(planning.WORKERS_ENV, workers)
        uploader.ledger_url = f"sqlite:///{tmp_path / f'ledger-{workers}.sqlite3'}"
        # The second ledger is new to a campaign the first one filled: accepted on purpose.
        summary = uploader.run(
            _rows(tmp_path, f"in-{workers}.csv"), token=campaign["token"], new_ledger=True
        )
        assert summary.exit_code == ExitCode.OK, summary.lines()
        assert (summary.read, summary.sent, summary.rejected, summary.duplicate) == (97, 95, 1, 1)
        results.append(_ledger_rows(uploader.ledger_url))
    assert forked == [False, True]
    in_process, in_child = results
    assert in_child == in_process  # same rows, states, batches, bodies (digests)
    # The second ledger froze the same batches, hence the same derived keys: the server
    # replayed the first run's jobs instead of calling anyone twice.
    assert jobs_per_phone(emulator, campaign["id"]) == {phone(i): 1 for i in range(95)}


def test_the_readers_own_error_reaches_the_uploader(
    uploader: Uploader, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(planning.WORKERS_ENV, "2")
    wrong = tmp_path / "wrong.csv"
    wrong.write_text("telephone,name\n79160000001,A\n", encoding="utf-8")
    summary = uploader.run(wrong)
    assert isinstance(summary.error, InputFileError)  # the same error as in-process
    assert "phone" in str(summary.error) and "telephone" in str(summary.error)


def test_a_reader_that_dies_is_reported_and_nothing_is_completed(
    uploader: Uploader, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(planning.WORKERS_ENV, "2")

    def dies(self: planning._Reader) -> Any:
        os.kill(os.getpid(), signal.SIGKILL)
        yield 0  # pragma: no cover - never reached

    monkeypatch.setattr(planning._Reader, "in_child", dies)
    summary = uploader.run(_rows(tmp_path, "in.csv"))
    assert isinstance(summary.error, PipelineError)
    assert "ended with exit code -9" in str(summary.error)
    assert f"{planning.WORKERS_ENV}=1" in str(summary.error)
    with open_ledger(uploader.ledger_url) as ledger, ledger.store.engine.connect() as conn:
        total = conn.execute(sa.text("SELECT rows_total FROM inputs")).scalar()
    assert total is None  # not complete: the next run reads the file again


def test_when_the_reader_is_forked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    small, big = tmp_path / "small.csv", tmp_path / "big.csv"
    small.write_bytes(b"x" * 100)
    big.write_bytes(b"x" * planning.FORK_MIN_BYTES)
    monkeypatch.delenv(planning.WORKERS_ENV, raising=False)
    monkeypatch.setattr(planning, "cpu_count", lambda: 2)
    assert (planning.fork_reader(small), planning.fork_reader(big)) == (False, True)
    monkeypatch.setattr(planning, "cpu_count", lambda: 1)
    assert planning.fork_reader(big) is False  # nobody to run beside the ledger
    monkeypatch.setenv(planning.WORKERS_ENV, "1")
    assert planning.fork_reader(big) is False
    monkeypatch.setenv(planning.WORKERS_ENV, "2")
    assert planning.fork_reader(small) is True
    monkeypatch.setenv(planning.WORKERS_ENV, "two")
    with pytest.raises(ConfigError, match="JAICP_WORKERS"):
        planning.fork_reader(small)


@pytest.mark.parametrize("workers", ["1", "2"])
def test_chunks_cut_from_a_read_chunk_keep_each_duplicate_linked_to_its_original(
    uploader: Uploader, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, workers: str
) -> None:
    # One read chunk of 60 rows cut into planning chunks of 7 (the first of 3): duplicates
    # sit in later pieces than their originals, and one right after a cut.
    monkeypatch.setattr(planning, "FIRST_PLAN_ROWS", 3)
    monkeypatch.setattr(planning, "PLAN_ROWS", 7)
    monkeypatch.setenv(planning.WORKERS_ENV, workers)
    rows = [(phone(i), f"N{i}") for i in range(50)]
    originals = [0, 2, 3, 9, 11, 20, 30, 40, 45, 49]  # file rows 1, 3, 4, 10, ...
    rows += [(phone(i), f"N{i}") for i in originals]  # rows 51..60
    summary = uploader.run(write_csv(tmp_path / "dups.csv", rows))
    assert summary.exit_code == ExitCode.OK, summary.lines()
    assert summary.duplicate == len(originals)
    with open_ledger(uploader.ledger_url) as ledger, ledger.store.engine.connect() as conn:
        links = conn.exec_driver_sql(
            "SELECT d.row_number, o.row_number FROM rows d LEFT JOIN rows o "
            "ON o.id = d.duplicate_of WHERE d.state = 'duplicate' ORDER BY d.row_number"
        ).all()
    assert [tuple(link) for link in links] == [
        (51 + n, original + 1) for n, original in enumerate(originals)
    ]
