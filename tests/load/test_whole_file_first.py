"""A file is accepted whole or not at all (issue 10 §1): a structural error anywhere in it —
here near its end — stops the upload before any of its rows is planned or sent.

Before, a cp1251 line at line 40,002 of a UTF-8 file stopped the run with exit 6 after 20,000
rows had been sent; the operator could neither fix and re-send the file as a whole nor tell
which rows had gone out.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from pipeline.emulator import Emulator
from pipeline.errors import ExitCode, InputFileError
from pipeline.ledger import open_ledger
from pipeline.load.upload import input_planning as planning
from tests.conftest import phone
from tests.load.conftest import Uploader

ROWS = 50_000


def _export(tmp_path: Path, bad_line: bytes, *, at: int = 40_002) -> Path:
    """A UTF-8 CSV of ROWS rows whose line ``at`` (1-based, header = line 1) is ``bad_line``."""
    lines = [b"phone,name"] + [
        f"{phone(i)},\u0418\u0432\u0430\u043d {i}".encode() for i in range(ROWS)
    ]
    lines[at - 1] = bad_line
    path = tmp_path / "export.csv"
    path.write_bytes(b"\n".join(lines) + b"\n")
    return path


def _rows_in_ledger(uploader: Uploader) -> int:
    with open_ledger(uploader.ledger_url) as ledger, ledger.store.engine.connect() as conn:
        return int(conn.exec_driver_sql("SELECT count(*) FROM rows").scalar_one())


@pytest.mark.parametrize("workers", ["1", "2"])  # read in this process, or in a forked one
def test_a_cp1251_line_near_the_end_stops_the_file_before_anything_is_sent(  # noqa: PLR0917
    uploader: Uploader,
    emulator: Emulator,
    campaign: dict[str, Any],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    workers: str,
) -> None:
    monkeypatch.setenv(planning.WORKERS_ENV, workers)
    export = _export(tmp_path, "79169999999,Петров".encode("cp1251"))
    summary = uploader.run(export, batch_size=1000)

    assert summary.exit_code == ExitCode.INPUT, summary.lines()
    assert isinstance(summary.error, InputFileError)
    message = str(summary.error)
    assert "40002" in message and str(export) in message
    assert "jaicp-inputs" not in message  # the operator's file, not the private copy
    assert emulator.requests_log() == []
    assert _rows_in_ledger(uploader) == 0 and summary.read == 0

    # Fixed in the CRM and exported again: the whole file goes, each row once.
    fixed = _export(tmp_path, f"{phone(ROWS + 1)},Петров".encode())
    again = uploader.run(fixed, batch_size=1000)
    assert again.exit_code == ExitCode.OK, again.lines()
    assert again.sent == ROWS and len(emulator.jobs(campaign["id"])) == ROWS


@pytest.mark.parametrize(
    ("bad_line", "said"),
    [
        (b'79169999999,"an unclosed quote', "quote"),
        (b"79169999999," + b"x" * 5000, "input.max_record_chars"),
    ],
)
def test_broken_quoting_or_an_oversized_record_near_the_end_sends_nothing(
    uploader: Uploader, emulator: Emulator, tmp_path: Path, bad_line: bytes, said: str
) -> None:
    uploader.input = {"max_record_chars": 4096}
    export = _export(tmp_path, bad_line, at=ROWS + 1)  # the very last line
    summary = uploader.run(export, batch_size=1000)
    assert summary.exit_code == ExitCode.INPUT, summary.lines()
    assert said in str(summary.error)
    assert emulator.requests_log() == [] and _rows_in_ledger(uploader) == 0


def test_a_sheet_read_by_openpyxl_is_checked_whole_before_its_first_row(
    uploader: Uploader, emulator: Emulator, tmp_path: Path
) -> None:
    """openpyxl streams a sheet: XML broken near its end would surface after rows were
    planned and sent. The reader goes through the whole sheet first."""
    import zipfile

    import openpyxl

    rows = 25_000  # more than the first planned part (20,000 rows), which goes out at once
    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet("Export")
    sheet.append(["phone", "name"])
    for i in range(rows):
        sheet.append([phone(i), f"N{i}"])
    good = tmp_path / "good.xlsx"
    book.save(good)
    broken = tmp_path / "export.xlsx"
    with zipfile.ZipFile(good) as src, zipfile.ZipFile(broken, "w") as dst:
        for item in src.infolist():
            data = src.read(item)
            if item.filename.endswith("sheet1.xml"):
                # The last row's name cell points at a shared string that does not exist.
                data = data.replace(
                    b"</sheetData>",
                    b'<row r="99999"><c r="B99999" t="s"><v>99999999</v></c></row></sheetData>',
                )
            dst.writestr(item, data)
    uploader.input = {"xlsx_engine": "openpyxl"}
    summary = uploader.run(broken, batch_size=1000)
    assert summary.exit_code == ExitCode.INPUT, summary.lines()
    assert emulator.requests_log() == [] and _rows_in_ledger(uploader) == 0
