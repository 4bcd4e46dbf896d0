"""XLSX for people (reports/xlsx.py), read back with openpyxl: cell types, number formats,
the frozen header, the autofilter range and the column widths."""

from __future__ import annotations

import tracemalloc
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from pipeline.errors import OutputFileError
from pipeline.reports import xlsx
from pipeline.reports.results import RESULT_COLUMNS, ResultFields, ResultsWriter
from pipeline.reports.tables import open_table_writer
from tests.extract.helpers import read_all

HEADER = ["row", "phone", "job_id", "amount", "due", "finished_at", "comment"]
KINDS = ["integer", "text", "text", "decimal", "date", "datetime", "text"]


def _sheet(path: Path) -> Worksheet:
    sheet = load_workbook(path).active  # full mode: types, formats, panes and widths
    assert isinstance(sheet, Worksheet)
    return sheet


def _write(path: Path, rows: list[list[str]]) -> None:
    with open_table_writer(path, HEADER, format="xlsx", kinds=KINDS) as out:  # type: ignore[arg-type]
        for row in rows:
            out.write_row(row)


def test_numbers_and_dates_are_typed_phones_and_ids_stay_text(tmp_path: Path) -> None:
    path = tmp_path / "r.xlsx"
    _write(
        path,
        [
            ["1", "79160000001", "000123", "1234.50", "2026-12-31", "2026-11-30T10:05+03:00", ""],
            ["2", "0079160000002", "99999999999999999", "-7", "", "", "=SUM(A1:A9)"],
        ],
    )
    sheet = _sheet(path)
    row, phone, job, amount, due, finished, comment = sheet[2]
    assert (row.value, row.data_type, row.number_format) == (1, "n", "0")
    assert (amount.value, amount.data_type) == (1234.5, "n")
    assert amount.number_format.startswith("#,##0.00")
    assert (due.value, due.number_format) == (datetime(2026, 12, 31), "yyyy-mm-dd")
    # Excel has no zones: the wall clock of the text's own zone (Moscow here) is shown.
    assert finished.value == datetime(2026, 11, 30, 10, 5)
    assert finished.number_format == "yyyy-mm-dd hh:mm:ss"
    assert (phone.value, phone.data_type) == ("79160000001", "s")  # 11 digits: text
    assert (job.value, job.data_type) == ("000123", "s")  # leading zeros survive
    assert comment.value is None  # empty: no cell at all
    second = sheet[3]
    assert second[1].value == "0079160000002"
    assert second[2].value == "99999999999999999"
    assert second[6].value == "=SUM(A1:A9)"  # a string, verbatim: no formula, no apostrophe
    assert second[6].data_type == "s"
    assert all(cell.data_type != "f" for line in sheet.iter_rows() for cell in line)


def test_header_is_frozen_and_filtered_and_widths_follow_the_values(tmp_path: Path) -> None:
    path = tmp_path / "r.xlsx"
    _write(path, [["1", "79160000001", "5", "1", "2026-01-01", "", "x" * 30]] * 3)
    assert [p.name for p in tmp_path.iterdir()] == ["r.xlsx"]  # temporary rows removed
    sheet = _sheet(path)
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == "A1:G4"  # header + 3 rows, every column
    widths = {key: dim.width for key, dim in sheet.column_dimensions.items()}
    assert widths["G"] == pytest.approx(32, abs=1)  # 30 characters + a margin
    assert widths["B"] == pytest.approx(13, abs=1)  # 11 digits + a margin
    assert widths["F"] == pytest.approx(xlsx.FIXED_WIDTHS["datetime"], abs=1)  # as formatted
    assert widths["A"] == pytest.approx(xlsx.MIN_WIDTH, abs=1)  # "row" + filter button
    assert [c.font.b for c in sheet[1]] == [True] * len(HEADER)


def test_widths_are_capped_and_only_a_sample_of_rows_is_measured(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(xlsx, "WIDTH_SAMPLE", 2)
    path = tmp_path / "r.xlsx"
    rows = [["1", "7916", "", "", "", "", "y" * 500], ["2", "7916", "", "", "", "", "short"]]
    _write(path, [*rows, ["3", "7" * 40, "", "", "", "", ""]])  # row 3 is past the sample
    widths = {key: dim.width for key, dim in _sheet(path).column_dimensions.items()}
    assert widths["G"] == pytest.approx(xlsx.MAX_WIDTH, abs=1)
    assert widths["B"] < 20


def test_an_empty_table_still_has_its_filter_and_frozen_header(tmp_path: Path) -> None:
    path = tmp_path / "r.xlsx"
    _write(path, [])
    sheet = _sheet(path)
    assert (sheet.auto_filter.ref, sheet.freeze_panes) == ("A1:G1", "A2")
    assert [c.value for c in sheet[1]] == HEADER


def test_cells_that_are_not_their_kind_are_written_as_the_text_they_are(tmp_path: Path) -> None:
    path = tmp_path / "r.xlsx"
    _write(path, [["n/a", "x", "y", "1 234,50", "2026-02-30", "1800-01-01T00:00:00", ""]])
    line = _sheet(path)[2]
    assert [c.value for c in line[:6]] == ["n/a", "x", "y", "1 234,50", "2026-02-30",
                                            "1800-01-01T00:00:00"]  # fmt: skip
    assert {c.data_type for c in line[:6]} == {"s"}


def test_more_rows_than_a_sheet_holds_is_a_clear_error_and_no_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(xlsx, "MAX_ROWS", 3)  # the header and two rows
    path = tmp_path / "r.xlsx"
    with pytest.raises(OutputFileError, match=r"do not fit one Excel sheet; write a \.csv"):
        _write(path, [["1"], ["2"], ["3"]])
    assert list(tmp_path.iterdir()) == []


def test_a_cell_longer_than_excel_holds_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(OutputFileError, match="row 1, column 'comment'"):
        _write(tmp_path / "r.xlsx", [["1", "", "", "", "", "", "z" * 40_000]])
    assert list(tmp_path.iterdir()) == []  # nor XlsxWriter's temporary row file


def test_the_results_writer_types_its_columns(tmp_path: Path) -> None:
    path = tmp_path / "results.xlsx"
    moscow = ZoneInfo("Europe/Moscow")
    with ResultsWriter(
        path,
        leading=["payload.debt", "payload.name"],
        leading_kinds=["decimal"],
        report_keys=["callResult"],
        tz=moscow,
    ) as out:
        out.write(
            ["1500.00", "0012"],
            ResultFields(
                file="a.csv",
                row=3,
                phone="79160000001",
                state="sent",
                job_id="0042",
                attempts=2,
                call_duration_s=65,
                finished_at=datetime(2026, 11, 30, 7, 0, tzinfo=UTC),
                report_data={"callResult": "PROMISED"},
            ),
        )
    sheet = _sheet(path)
    header = [c.value for c in sheet[1]]
    assert header == ["payload.debt", "payload.name", *RESULT_COLUMNS, "report.callResult"]
    line = dict(zip(header, sheet[2], strict=True))
    assert line["payload.debt"].value == 1500.0
    assert line["payload.name"].value == "0012"  # untyped leading columns are text
    assert (line["row"].value, line["attempts"].value, line["call_duration_s"].value) == (3, 2, 65)
    assert line["phone"].value == "79160000001" and line["phone"].data_type == "s"
    assert line["job_id"].value == "0042"
    assert line["finished_at"].value == datetime(2026, 11, 30, 10, 0)
    assert line["fetched_at"].value is None
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == f"A1:{get_column_letter(len(header))}2"


def test_our_reader_reads_a_typed_sheet_back(tmp_path: Path) -> None:
    path = tmp_path / "r.xlsx"
    _write(path, [["7", "79160000001", "1", "10", "2026-12-31", "", "Иванов"]])
    _, rows, _ = read_all(path)
    assert rows == [(1, ["7", "79160000001", "1", "10", "2026-12-31", "", "Иванов"])]
    assert date(2026, 12, 31).isoformat() == rows[0][1][4]


def _peak_while_writing(path: Path, rows: int) -> int:
    tracemalloc.start()
    try:
        with open_table_writer(path, HEADER, format="xlsx", kinds=KINDS) as out:  # type: ignore[arg-type]
            for i in range(rows):
                out.write_row([str(i), f"7916{i:07d}", str(i), "10.5", "2026-01-01",
                               "2026-01-01T10:00:00+03:00", f"Клиент {i}"])  # fmt: skip
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_memory_stays_flat_as_the_sheet_grows(tmp_path: Path) -> None:
    # Rows stream to XlsxWriter's temporary file (constant_memory): ten times the rows must
    # not cost ten times the memory. A writer that kept rows would need ~0.5 KB per row.
    small = _peak_while_writing(tmp_path / "small.xlsx", 500)
    large = _peak_while_writing(tmp_path / "large.xlsx", 5_000)
    assert large < small * 1.5, (small, large)
