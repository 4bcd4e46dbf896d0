"""Title lines above the header: input.header_row, input.skip_rows and the header search."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from pipeline.config import parse_config
from pipeline.errors import InputFileError
from pipeline.extract import ReadOptions, open_table
from tests.extract.helpers import read_all, write_bytes, write_xlsx
from tests.extract.writers import write_xls

TITLED = (
    "Выгрузка контрагентов от 01.12.2026\n"
    "\n"
    "Организация: ООО Ромашка\n"  # noqa: RUF001
    "Телефон;ФИО;Город\n"
    "79161234567;Иванов;Москва\n"
    "\n"
    "79161234568;Петров;Тула\n"
)
MAPPED = {"columns": {"phone": ["Мобильный", "Телефон"], "payload": {"name": "ФИО"}}}


def _options(extra: dict[str, object] | None = None) -> ReadOptions:
    return ReadOptions.from_config(parse_config({**MAPPED, "input": extra or {}}))


def test_header_is_found_below_title_lines_and_the_decision_told(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = write_bytes(tmp_path, "1c.csv", TITLED.encode("cp1251"))
    with caplog.at_level("WARNING", logger="pipeline.extract"):
        open_table(path, _options()).close()
        open_table(path, _options()).close()  # the check, then the read: told once
    messages = [r.getMessage() for r in caplog.records]
    assert len(messages) == 1
    assert messages[0].startswith(f"{path}: header found on line 4")
    with open_table(path, _options()) as table:
        assert table.info.header == ("Телефон", "ФИО", "Город")
        assert table.info.header_row == 4
        assert table.info.delimiter == ";"  # the title lines did not decide it
        rows = [(n, r) for c in table.chunks() for n, r in zip(c.row_numbers, c.rows, strict=True)]
        assert rows == [
            (1, ["79161234567", "Иванов", "Москва"]),
            (2, ["", "", ""]),
            (3, ["79161234568", "Петров", "Тула"]),
        ]
        assert len(table.notes) == 1
        assert "header found on line 4" in table.notes[0]
        assert "'Выгрузка контрагентов от 01.12.2026'" in table.notes[0]


def test_without_the_mapping_the_first_non_blank_line_stays_the_header(tmp_path: Path) -> None:
    path = write_bytes(tmp_path, "1c.csv", TITLED.encode())
    info, _, _ = read_all(path, ReadOptions(delimiter=";"))
    assert info.header == ("Выгрузка контрагентов от 01.12.2026",)


def test_header_row_and_skip_rows_choose_it_explicitly(tmp_path: Path) -> None:
    path = write_bytes(tmp_path, "1c.csv", TITLED.encode())
    for extra in ({"header_row": 4}, {"skip_rows": 3}):
        info, rows, _ = read_all(path, ReadOptions(delimiter=";", **extra))  # type: ignore[arg-type]
        assert (info.header_row, info.header, rows[0]) == (
            4,
            ("Телефон", "ФИО", "Город"),
            (1, ["79161234567", "Иванов", "Москва"]),
        )
    with pytest.raises(InputFileError, match=r"line 2 \(input.header_row\) is blank"):
        open_table(path, ReadOptions(header_row=2))
    with pytest.raises(InputFileError, match="ends before that line"):
        open_table(path, ReadOptions(header_row=40))


def test_header_search_in_workbooks(tmp_path: Path) -> None:
    sheet: list[list[Any]] = [
        ["Выгрузка контрагентов от 01.12.2026"],
        [],
        [None, "Телефон", "ФИО"],
        [None, 79161234567, "Иванов"],
        [None, 79161234568, dt.date(2026, 1, 2)],
    ]
    xls = write_xls(tmp_path / "1c.xls", {"S": sheet})
    xlsx = write_xlsx(tmp_path, "1c.xlsx", {"S": sheet})
    for path in (xls, xlsx):
        with open_table(path, _options()) as table:
            assert (table.info.header, table.info.header_row) == (("Телефон", "ФИО"), 3)
            rows = [r for c in table.chunks() for r in c.rows]
            assert rows == [["79161234567", "Иванов"], ["79161234568", "2026-01-02"]]
            assert "header found on row 3" in table.notes[0]


def test_a_file_without_the_mapped_columns_keeps_its_first_line(tmp_path: Path) -> None:
    path = write_bytes(tmp_path, "x.csv", b"a;b\n1;2\n")
    with open_table(path, _options()) as table:
        assert table.info.header == ("a", "b")
        assert table.notes == []
