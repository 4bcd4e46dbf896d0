"""The inbox's parts without a server: which files are settled and in which order, filing
without overwriting (and after a crash half-way), and the order of exit codes."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from pipeline.errors import ExitCode, RejectRatioError
from pipeline.load.inbox import SEVERITY, worst
from pipeline.load.inbox.arrivals import candidates, ignored, settled_files
from pipeline.load.inbox.filing import file_away, numbered
from pipeline.load.inbox.verdicts import note_for


def touch(path: Path, text: str = "phone\n", *, at: int = 1_700_000_000) -> Path:
    path.write_text(text, encoding="utf-8")
    os.utime(path, (at, at))
    return path


@pytest.mark.parametrize(
    "name",
    [".hidden.csv", ".~lock.x.xlsx#", "~$book.xlsx", "x.csv.part", "x.CSV.PART", "x.partial",
     "x.crdownload", "x.download", "x.filepart", "x.tmp", "x.temp", "x.csv~", "x.swp"],
)  # fmt: skip
def test_temporary_and_hidden_names_are_never_taken(name: str) -> None:
    assert ignored(name)


@pytest.mark.parametrize("name", ["export.csv", "Выгрузка 2026-12-06.xlsx", "a.csv.gz", "b.xls"])
def test_exports_are_taken(name: str) -> None:
    assert not ignored(name)
    assert ignored(name, ["*.xls*", "*.gz", "export*", "Выгрузка*"])  # inbox.ignore


def test_order_of_arrival_is_mtime_then_name(tmp_path: Path) -> None:
    touch(tmp_path / "b.csv", at=200)
    touch(tmp_path / "a.csv", at=200)
    touch(tmp_path / "z.csv", at=100)
    (tmp_path / "done").mkdir()  # folders are never taken
    assert [a.path.name for a in candidates(tmp_path)] == ["z.csv", "a.csv", "b.csv"]


def test_a_file_that_changes_during_the_settle_time_waits(tmp_path: Path) -> None:
    touch(tmp_path / "still.csv", at=100)
    growing = touch(tmp_path / "growing.csv", at=100)
    waited: list[float] = []

    def writer_keeps_writing(seconds: float) -> None:
        waited.append(seconds)
        with growing.open("a", encoding="utf-8") as fh:
            fh.write("79160000001\n")
        touch(tmp_path / "new.csv", at=50)  # arrived during the wait: no first look yet

    ready, busy = settled_files(tmp_path, settle_s=7.5, sleep=writer_keeps_writing)
    assert waited == [7.5]
    assert [a.path.name for a in ready] == ["still.csv"]
    assert sorted(p.name for p in busy) == ["growing.csv", "new.csv"]


def test_no_wait_without_files_or_settle_time(tmp_path: Path) -> None:
    def never(_seconds: float) -> None:
        raise AssertionError("waited")

    assert settled_files(tmp_path, settle_s=10, sleep=never) == ([], [])
    touch(tmp_path / "a.csv")
    ready, busy = settled_files(tmp_path, settle_s=0, sleep=never)
    assert [a.path.name for a in ready] == ["a.csv"] and busy == []


def test_an_unchanged_look_notices_a_rewrite(tmp_path: Path) -> None:
    (arrival,) = candidates(touch(tmp_path / "a.csv", at=100).parent)
    assert arrival.unchanged()
    touch(tmp_path / "a.csv", "phone\n1\n", at=100)
    assert not arrival.unchanged()


@pytest.mark.parametrize(
    ("name", "n", "expected"),
    [("export.csv", 1, "export.csv"), ("export.csv", 2, "export.2.csv"),
     ("export.csv.gz", 3, "export.3.csv.gz"), ("README", 2, "README.2"),
     ("my.export.2026-12-06.xlsx", 2, "my.export.2026-12-06.2.xlsx")],
)  # fmt: skip
def test_numbered_names_keep_the_suffix(name: str, n: int, expected: str) -> None:
    assert numbered(name, n) == expected


def test_filing_never_overwrites_and_writes_the_note_beside(tmp_path: Path) -> None:
    folder = tmp_path / "failed"
    first = file_away(touch(tmp_path / "x.csv", "one"), folder, note="why: one")
    second = file_away(touch(tmp_path / "x.csv", "two"), folder, note="why: two")
    assert first == folder / "x.csv" and second == folder / "x.2.csv"
    assert first.read_text() == "one" and second.read_text() == "two"
    assert (folder / "x.csv.note.txt").read_text() == "why: one\n"
    assert (folder / "x.2.csv.note.txt").read_text() == "why: two\n"
    assert not (tmp_path / "x.csv").exists()
    assert folder.stat().st_mode & 0o777 == 0o700
    assert (folder / "x.2.csv.note.txt").stat().st_mode & 0o777 == 0o600


def test_filing_again_after_a_crash_between_link_and_unlink(tmp_path: Path) -> None:
    """A run killed after linking the file into done/ but before removing the inbox's name:
    the next run files the same file again and ends with one copy, under the first name."""
    source = touch(tmp_path / "x.csv", "data")
    folder = tmp_path / "done"
    folder.mkdir()
    os.link(source, folder / "x.csv")  # what the killed run had done
    assert file_away(source, folder) == folder / "x.csv"
    assert not source.exists()
    assert sorted(p.name for p in folder.iterdir()) == ["x.csv"]


def test_filing_a_file_another_run_filed_meanwhile(tmp_path: Path) -> None:
    assert file_away(tmp_path / "gone.csv", tmp_path / "done") is None


def test_the_worst_exit_code_wins() -> None:
    assert worst([]) == ExitCode.OK
    assert worst([0, 3, 0]) == ExitCode.PENDING
    assert worst([3, 5]) == ExitCode.LEASE_HELD
    assert worst([3, 9, 8]) == ExitCode.REJECT_RATIO
    assert worst([8, 6]) == ExitCode.INPUT
    assert worst([6, 1, 4]) == ExitCode.CONFIG
    assert worst([4, 7]) == ExitCode.VERIFY_FAILED
    assert worst([7, 130, 0]) == ExitCode.INTERRUPTED
    assert worst([0, 42]) == 42  # an unlisted code ranks as a failure (1) ...
    assert worst([42, 4]) == ExitCode.CONFIG  # ... below configuration errors
    assert len(set(SEVERITY)) == len(SEVERITY)


def test_a_note_says_what_why_and_what_to_do(tmp_path: Path) -> None:
    error = RejectRatioError("x.csv: 10 of 10 data rows (100.0%) are rejected, …")
    note = note_for("x.csv", error, inbox=tmp_path, sha256="ab" * 32, run_id=7)
    assert note.splitlines()[0] == "file: x.csv"
    assert "exit 8, ledger run 7, sha256 abab" in note
    assert "why: x.csv: 10 of 10" in note
    assert "what to do: check the config's columns.*" in note
    assert f"move it back into {tmp_path}" in note
