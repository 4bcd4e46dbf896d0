"""XLSX reader rules on real workbooks, with both engines."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from pipeline.errors import InputFileError
from pipeline.extract import ReadOptions, open_table
from pipeline.extract.cells import cell_text
from tests.extract.helpers import read_all, write_bytes, write_xlsx

SAMPLES = Path(__file__).resolve().parents[2] / "sample_data"
ENGINES = ["calamine", "openpyxl"]

NUMBERS: list[tuple[Any, str]] = [
    (79161234567.0, "79161234567"),
    (79161234567, "79161234567"),
    (89160000001.0, "89160000001"),
    (1234567890123456.0, "1234567890123456"),
    # openpyxl stores this as "1.234567890123457e+19" (16 significant digits, as Excel would):
    # the reader gives that stored value's exact integer, never an exponent.
    (12345678901234567890.0, "12345678901234569216"),
    (7.916e10, "79160000000"),
    (1500.5, "1500.5"),
    (0.1, "0.1"),
    (-3.25, "-3.25"),
    (0, "0"),
    (-42.0, "-42"),
]


@pytest.mark.parametrize("engine", ENGINES)
def test_numbers_are_exact_text(tmp_path: Path, engine: str) -> None:
    path = write_xlsx(tmp_path, "n.xlsx", {"S": [["phone"], *[[v] for v, _ in NUMBERS]]})
    _, rows, _ = read_all(path, ReadOptions(xlsx_engine=engine))  # type: ignore[arg-type]
    assert [cells[0] for _, cells in rows] == [text for _, text in NUMBERS]
    assert all("e" not in cells[0].lower() for _, cells in rows)


@pytest.mark.parametrize("engine", ENGINES)
def test_dates_booleans_and_text(tmp_path: Path, engine: str) -> None:
    row = [
        dt.date(2026, 12, 1),
        dt.datetime(2026, 12, 2, 9, 30, 15),
        dt.datetime(2026, 12, 3),
        True,
        False,
        "+7 916 000-00-01",
        None,
    ]
    path = write_xlsx(tmp_path, "d.xlsx", {"S": [list("abcdefg"), row]})
    _, rows, _ = read_all(path, ReadOptions(xlsx_engine=engine))  # type: ignore[arg-type]
    assert rows == [
        (
            1,
            [
                "2026-12-01",
                "2026-12-02T09:30:15",
                "2026-12-03",
                "TRUE",
                "FALSE",
                "+7 916 000-00-01",
                "",
            ],
        )
    ]


def test_cell_text_covers_every_value_type() -> None:
    assert cell_text(None) == ""
    assert cell_text(dt.time(9, 5)) == "09:05:00"
    assert cell_text(dt.timedelta(hours=26, minutes=3)) == "26:03:00"
    assert cell_text(float("nan")) == "nan"
    assert cell_text(True) == "TRUE"


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("sheet", ["Данные", 1, " данные "])
def test_second_sheet_by_name_or_index(engine: str, sheet: str | int) -> None:
    options = ReadOptions(sheet=sheet, xlsx_engine=engine)  # type: ignore[arg-type]
    info, rows, _ = read_all(SAMPLES / "xlsx_two_sheets.xlsx", options)
    assert (info.sheet, info.header_row, info.header) == ("Данные", 2, ("phone", "name"))
    assert rows[0] == (1, ["79160001001", "Second Sheet A"])


def test_first_sheet_is_the_default() -> None:
    info, rows, _ = read_all(SAMPLES / "xlsx_two_sheets.xlsx")
    assert info.sheet == "Инструкция"
    assert rows == []


@pytest.mark.parametrize("engine", ENGINES)
def test_unknown_sheet_lists_the_sheets(engine: str) -> None:
    for sheet, pattern in (("Nope", r"no sheet named 'Nope'.*'Данные'"), (5, r"index 5.*1: ")):
        options = ReadOptions(sheet=sheet, xlsx_engine=engine)  # type: ignore[arg-type]
        with pytest.raises(InputFileError, match=pattern):
            open_table(SAMPLES / "xlsx_two_sheets.xlsx", options)


def _offset_workbook(tmp_path: Path) -> Path:
    """Header at C3, an empty row in the middle, trailing empty (but existing) rows."""
    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    ws["A1"] = None
    ws["C3"], ws["D3"] = "Phone", "Name"
    ws["C4"], ws["D4"] = 79160000001, "A"
    ws["D6"] = "only name"
    ws["C7"], ws["D7"], ws["E7"] = 79160000002.0, "B", "beyond header"
    ws["C12"] = ""  # Excel's used range can end well after the data
    path = tmp_path / "offset.xlsx"
    wb.save(path)
    return path


@pytest.mark.parametrize("engine", ENGINES)
def test_offset_header_middle_blank_and_trailing_empty_rows(tmp_path: Path, engine: str) -> None:
    options = ReadOptions(xlsx_engine=engine, chunk_size=2)  # type: ignore[arg-type]
    info, rows, extra = read_all(_offset_workbook(tmp_path), options)
    assert (info.header, info.header_row) == (("Phone", "Name"), 3)
    assert rows == [
        (1, ["79160000001", "A"]),
        (2, ["", ""]),
        (3, ["", "only name"]),
        (4, ["79160000002", "B"]),
    ]
    assert extra == {4: ["beyond header"]}


def test_both_engines_agree_on_a_mixed_workbook(tmp_path: Path) -> None:
    results = [
        read_all(_offset_workbook(tmp_path), ReadOptions(xlsx_engine=e))  # type: ignore[arg-type]
        for e in ENGINES
    ]
    assert results[0] == results[1]


def test_auto_falls_back_to_openpyxl_when_calamine_is_missing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "python_calamine", None)  # import now fails
    with open_table(SAMPLES / "xlsx_numeric_phones.xlsx") as table:
        assert table.engine == "openpyxl"
        first = next(table.chunks())
    assert first.rows[0][0] == "79160000901"


def test_auto_uses_calamine_when_present() -> None:
    with open_table(SAMPLES / "xlsx_numeric_phones.xlsx") as table:
        assert table.engine == "calamine"


def test_defusedxml_is_active_for_openpyxl() -> None:
    assert openpyxl.DEFUSEDXML is True


def test_openpyxl_is_refused_without_defusedxml(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(openpyxl, "DEFUSEDXML", False)
    with pytest.raises(InputFileError, match="defusedxml"):
        open_table(SAMPLES / "xlsx_numeric_phones.xlsx", ReadOptions(xlsx_engine="openpyxl"))


@pytest.mark.parametrize("engine", ["auto", *ENGINES])
def test_a_file_that_is_not_a_workbook_is_a_clear_error(tmp_path: Path, engine: str) -> None:
    path = write_bytes(tmp_path, "fake.xlsx", b"phone,name\n1,a\n")
    with pytest.raises(InputFileError, match=r"fake\.xlsx: cannot read the workbook.*save it"):
        open_table(path, ReadOptions(xlsx_engine=engine))  # type: ignore[arg-type]


@pytest.mark.parametrize("engine", ENGINES)
def test_empty_sheet_and_duplicate_headers(tmp_path: Path, engine: str) -> None:
    options = ReadOptions(xlsx_engine=engine)  # type: ignore[arg-type]
    empty = write_xlsx(tmp_path, "e.xlsx", {"Пусто": []})
    with pytest.raises(InputFileError, match="'Пусто' is empty"):
        open_table(empty, options)
    dup = write_xlsx(tmp_path, "d.xlsx", {"S": [["Phone", "PHONE"], [1, 2]]})
    with pytest.raises(InputFileError, match=r"column B \('PHONE'\).*column A"):
        open_table(dup, options)


def test_xlsm_is_read_like_xlsx(tmp_path: Path) -> None:
    path = write_xlsx(tmp_path, "m.xlsx", {"S": [["phone"], [79160000001]]})
    info, rows, _ = read_all(path.rename(tmp_path / "m.xlsm"))
    assert (info.format, rows) == ("xlsx", [(1, ["79160000001"])])
