"""The demo, run the way `make demo` runs it: the whole loop against the built-in emulator."""

from __future__ import annotations

import csv
from pathlib import Path

import openpyxl
from click.testing import CliRunner

from pipeline.cli.main import cli

FINAL = {"longCallWithResult", "longCallWithNoResult", "noAnswer", "nonexistentNumber"}


def test_demo_runs_the_whole_loop_and_lists_its_files(tmp_path: Path) -> None:
    out = tmp_path / "demo"
    result = CliRunner().invoke(cli, ["demo", "--out", str(out)])
    assert result.exit_code == 0, result.output
    text = result.output
    assert "rows read 29 = accepted 23 + rejected 5 + duplicate 1" in text
    assert "emulator: 23 call jobs for 23 phones (most jobs for one phone: 1)" in text
    assert "104.7056." not in text  # the demo token is never shown

    book = openpyxl.load_workbook(out / "results.xlsx", read_only=True)
    sheet = book.worksheets[0]
    lines = [["" if c is None else c for c in row] for row in sheet.iter_rows(values_only=True)]
    book.close()
    header, body = lines[0], [dict(zip(lines[0], row, strict=True)) for row in lines[1:]]
    assert "Телефон" in header  # the source file's own columns come first
    assert len(body) == 29  # one line per source row, rejected and duplicate rows included
    sent = [r for r in body if r["state"] == "sent"]
    assert len(sent) == 23
    assert len({r["job_id"] for r in sent}) == 23
    assert all(r["job_status"] in FINAL for r in sent), sent
    with (out / "rejects.csv").open(encoding="utf-8-sig", newline="") as fh:
        rejects = list(csv.reader(fh, delimiter=";"))
    assert len(rejects) == 1 + 6  # header + 5 rejected + 1 duplicate
    for name in ("accepted.csv", "rejects.csv", "results.xlsx", "ledger.sqlite3"):
        assert str(out / name) in text
        assert (out / name).stat().st_mode & 0o077 == 0, f"{name} must be private"
    assert out.stat().st_mode & 0o777 == 0o700  # the folder it created, too


def test_demo_can_run_twice_in_the_same_folder(tmp_path: Path) -> None:
    out = tmp_path / "demo"
    runner = CliRunner()
    assert runner.invoke(cli, ["demo", "--out", str(out)]).exit_code == 0
    again = runner.invoke(cli, ["demo", "--out", str(out)])
    assert again.exit_code == 0, again.output
