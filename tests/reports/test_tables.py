"""Table writers on real files: round trips, injection safety, encodings, 0600, atomicity."""

from __future__ import annotations

import csv
import stat
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook

from pipeline.errors import OutputFileError
from pipeline.extract import ReadOptions
from pipeline.reports import neutralise, open_table_writer
from pipeline.reports.tables import CsvTableWriter
from tests.extract.helpers import read_all

HEADER = ["phone", "name", "comment"]
ROWS = [
    ["+79160000001", '=HYPERLINK("http://example.invalid","x")', "plain"],
    ["+7 916 000-00-02", "Иванов; Пётр", "line one\nline two, with comma"],
    ["79160000003", "@cmd", "-2+3"],
]
EXPECTED = [
    ["+79160000001", '\'=HYPERLINK("http://example.invalid","x")', "plain"],
    ["+7 916 000-00-02", "Иванов; Пётр", "line one\nline two, with comma"],
    ["79160000003", "'@cmd", "'-2+3"],
]


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp1251"])
@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
def test_csv_round_trip_keeps_encoding_delimiter_and_row_numbers(
    tmp_path: Path, encoding: str, delimiter: str
) -> None:
    path = tmp_path / "out.csv"
    with open_table_writer(path, HEADER, encoding=encoding, delimiter=delimiter) as out:
        for row in ROWS:
            out.write_row(row)
    info, rows, extra = read_all(path)  # detection must find what we wrote
    assert (info.encoding, info.delimiter) == (encoding, delimiter)
    assert list(info.header) == HEADER
    assert rows == list(enumerate(EXPECTED, start=1))
    assert extra == {}


def test_csv_is_readable_by_the_csv_module(tmp_path: Path) -> None:
    path = tmp_path / "out.csv"
    with open_table_writer(path, HEADER, encoding="cp1251", delimiter=";") as out:
        for row in ROWS:
            out.write_row(row)
    with path.open(encoding="cp1251", newline="") as fh:
        assert list(csv.reader(fh, delimiter=";")) == [HEADER, *EXPECTED]


def test_xlsx_text_cells_are_verbatim_strings_never_formulas(tmp_path: Path) -> None:
    # XLSX needs no apostrophe: a string cell is shown, never run (CSV keeps the rule).
    path = tmp_path / "out.xlsx"
    with open_table_writer(path, HEADER, format="xlsx", sheet_title="rejects") as out:
        for row in ROWS:
            out.write_row(row)
        out.write_row(["+79160000004", "ctrl\x01char", ""])
    book = load_workbook(path)  # full mode: data types are visible
    sheet = book["rejects"]
    for cells in sheet.iter_rows(min_row=2):
        for cell in cells:
            if cell.value is None:
                continue  # an empty cell is left out of the sheet
            # "s"/"inlineStr" are text; "f" would be a formula, "n" a number.
            assert cell.data_type in ("s", "inlineStr"), cell.coordinate
            assert isinstance(cell.value, str)
    assert sheet["B2"].value == ROWS[0][1]  # =HYPERLINK(...) as it came, no apostrophe
    # Our own reader (and Excel) decode the _xHHHH_ escape of a control character.
    _, rows, _ = read_all(path, ReadOptions())
    assert [cells for _, cells in rows] == [*ROWS, ["+79160000004", "ctrl\x01char", ""]]


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "jsonl", "json"])
def test_created_files_are_private_and_appear_only_when_complete(tmp_path: Path, fmt: str) -> None:
    path = tmp_path / f"out.{fmt}"
    out = open_table_writer(path, HEADER, format=fmt)  # type: ignore[arg-type]
    out.write_row(ROWS[0])
    assert not path.exists()  # still a hidden .part file
    parts = list(tmp_path.glob(".out.*.part"))
    assert len(parts) == 1
    assert stat.S_IMODE(parts[0].stat().st_mode) == 0o600
    out.close()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert list(tmp_path.glob("*.part")) == []


def test_an_existing_file_with_loose_mode_is_replaced_by_a_private_one(tmp_path: Path) -> None:
    path = tmp_path / "out.csv"
    path.write_text("old", encoding="utf-8")
    path.chmod(0o644)
    with open_table_writer(path, HEADER) as out:
        out.write_row(ROWS[0])
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_an_error_while_writing_leaves_no_file(tmp_path: Path) -> None:
    path = tmp_path / "out.csv"
    with pytest.raises(RuntimeError), open_table_writer(path, HEADER) as out:
        out.write_row(ROWS[0])
        raise RuntimeError("boom")
    assert list(tmp_path.iterdir()) == []


def test_a_missing_folder_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(OutputFileError, match="no-such-dir"):
        open_table_writer(tmp_path / "no-such-dir" / "out.csv", HEADER)


def test_short_and_long_rows_are_fitted_to_the_header(tmp_path: Path) -> None:
    path = tmp_path / "out.csv"
    with open_table_writer(path, HEADER) as out:
        out.write_row(["79160000001"])
        out.write_row(["79160000002", "a", "b", "dropped"])
    _, rows, _ = read_all(path)
    assert rows == [(1, ["79160000001", "", ""]), (2, ["79160000002", "a", "b"])]


def test_cp1251_writes_unencodable_characters_as_question_marks(tmp_path: Path) -> None:
    path = tmp_path / "out.csv"
    with open_table_writer(path, HEADER, encoding="cp1251", delimiter=";") as out:
        out.write_row(["79160000001", "Ли 李", ""])
    _, rows, _ = read_all(path, ReadOptions(encoding="cp1251"))
    assert rows == [(1, ["79160000001", "Ли ?", ""])]


@settings(max_examples=300, deadline=None)
@given(
    cells=st.lists(
        st.text(alphabet=st.sampled_from(list("=+-@\t\r \x00a1(.")), max_size=6), max_size=6
    )
)
def test_the_row_check_neutralises_exactly_like_each_cell_alone(cells: list[str]) -> None:
    # Writers skip the per-cell check when one search over the row finds no trigger; the
    # result must be what neutralise() gives cell by cell.
    writer = CsvTableWriter.__new__(CsvTableWriter)
    writer.width = len(cells)
    assert writer._fit(cells) == [neutralise(c) for c in cells]


def test_write_rows_writes_like_write_row(tmp_path: Path) -> None:
    rows = [["1", "=SUM(A1)"], ["2", "+7 916 000-00-01"], ["3"]]
    with open_table_writer(tmp_path / "one.csv", ["a", "b"]) as one:
        for row in rows:
            one.write_row(row)
    with open_table_writer(tmp_path / "many.csv", ["a", "b"]) as many:
        many.write_rows(rows)
    assert (tmp_path / "one.csv").read_bytes() == (tmp_path / "many.csv").read_bytes()
    assert many.rows_written == 3
