"""Regenerate every file in ``sample_data/`` and its expected extract output.

Usage::

    .venv/bin/python sample_data/make_samples.py      # rewrites sample_data/* and expected/*

Each sample is defined once here: the bytes (or cells) to write AND the rows the reader must
yield, written down independently of the reader, so the expected files are not a copy of what
the code happens to produce. All phone numbers are fictional (``000-0x-xx`` line parts).
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from openpyxl import Workbook

HERE = Path(__file__).resolve().parent
EXPECTED = HERE / "expected"


@dataclass
class Expected:
    """What ``open_table`` must report for one sample (compared by tests/extract)."""

    name: str
    format: str
    header: list[str]
    rows: list[tuple[int, list[str]]]  # (row number, cells as text)
    encoding: str | None = None
    delimiter: str | None = None
    sheet: str | None = None
    header_row: int = 1
    extra: dict[int, list[str]] | None = None

    def dump(self) -> None:
        doc: dict[str, Any] = {
            "file": self.name,
            "format": self.format,
            "encoding": self.encoding,
            "delimiter": self.delimiter,
            "sheet": self.sheet,
            "header_row": self.header_row,
            "header": self.header,
            "extra": {str(k): v for k, v in (self.extra or {}).items()},
            "rows": [{"row": n, "cells": cells} for n, cells in self.rows],
        }
        # One row per line keeps the expected files readable and their diffs small.
        rows = doc.pop("rows")
        body = json.dumps(doc, ensure_ascii=False, indent=1)[:-2]
        lines = ",\n  ".join(json.dumps(r, ensure_ascii=False) for r in rows)
        text = f'{body},\n "rows": [\n  {lines}\n ]\n}}\n'
        json.loads(text)  # fail here, not in a test, if the hand-made layout is broken
        (EXPECTED / f"{self.name}.rows.json").write_text(text, encoding="utf-8")


def _csv(name: str, text: str, encoding: str) -> None:
    # newline="" keeps the \r\n and bare \n exactly as written below.
    with (HERE / name).open("w", encoding=encoding, newline="") as fh:
        fh.write(text)


def make_cp1251_semicolon() -> None:
    text = (
        "Телефон;ФИО;Город\r\n"
        "+7 916 000-01-01;Иванов Иван Иванович;Москва\r\n"
        "89160000102;Петрова Анна;Санкт-Петербург\r\n"
        '8 916 000 01 03;"Сидоров; Пётр";Тверь\r\n'
    )
    _csv("cp1251_semicolon.csv", text, "cp1251")
    Expected(
        "cp1251_semicolon.csv",
        "csv",
        ["Телефон", "ФИО", "Город"],
        [
            (1, ["+7 916 000-01-01", "Иванов Иван Иванович", "Москва"]),
            (2, ["89160000102", "Петрова Анна", "Санкт-Петербург"]),
            (3, ["8 916 000 01 03", "Сидоров; Пётр", "Тверь"]),
        ],
        encoding="cp1251",
        delimiter=";",
    ).dump()


def make_utf8_bom() -> None:
    text = "Phone,Name,Amount\r\n79160000201,Anna Smith,1500.50\r\n79160000202,Bob Jones,0\r\n"
    _csv("utf8_bom.csv", "\ufeff" + text, "utf-8")
    Expected(
        "utf8_bom.csv",
        "csv",
        ["Phone", "Name", "Amount"],
        [(1, ["79160000201", "Anna Smith", "1500.50"]), (2, ["79160000202", "Bob Jones", "0"])],
        encoding="utf-8-sig",
        delimiter=",",
    ).dump()


def make_bad_phones() -> None:
    text = (
        "phone,name,note\n"
        "7916000,Short Number,too short\n"
        "+7 916 ABC-03-01,Letters Inside,letters\n"
        '"7,91612E+10",Scientific,digits lost by Excel\n'
        '"+7 916 000-03-02, +7 916 000-03-03",Two Numbers,two numbers in one cell\n'
        "+7 495 000-03-04 доб. 123,Office Extension,extension\n"
        "79160000305,Good One,valid control row\n"
    )
    _csv("bad_phones.csv", text, "utf-8")
    Expected(
        "bad_phones.csv",
        "csv",
        ["phone", "name", "note"],
        [
            (1, ["7916000", "Short Number", "too short"]),
            (2, ["+7 916 ABC-03-01", "Letters Inside", "letters"]),
            (3, ["7,91612E+10", "Scientific", "digits lost by Excel"]),
            (4, ["+7 916 000-03-02, +7 916 000-03-03", "Two Numbers", "two numbers in one cell"]),
            (5, ["+7 495 000-03-04 доб. 123", "Office Extension", "extension"]),
            (6, ["79160000305", "Good One", "valid control row"]),
        ],
        encoding="utf-8",
        delimiter=",",
    ).dump()


def make_duplicates() -> None:
    rows = [
        ["+7 916 000-04-01", "Anna", "100"],
        ["79160000402", "Boris", "200"],
        ["8 (916) 000-04-01", "Anna", "100"],  # same phone and payload as row 1 → duplicate
        ["79160000401", "Anna", "999"],  # same phone, other payload → kept by default
        ["79160000402", "Boris", "200"],  # exact repeat of row 2 → duplicate
    ]
    text = "phone,name,debt\n" + "".join(",".join(r) + "\n" for r in rows)
    _csv("duplicates.csv", text, "utf-8")
    Expected(
        "duplicates.csv",
        "csv",
        ["phone", "name", "debt"],
        [(i, r) for i, r in enumerate(rows, 1)],
        encoding="utf-8",
        delimiter=",",
    ).dump()


def make_formula_names() -> None:
    text = (
        "phone;name;comment\n"
        '79160000501;"=HYPERLINK(""http://example.invalid/x"",""click"")";link formula\n'
        '79160000502;"+SUM(1;2)";plus formula\n'
        "79160000503;@cmd;at sign\n"
        "79160000504;-2+3;minus arithmetic\n"
        "+79160000505;Plain Name;phone with plus must stay readable\n"
    )
    _csv("formula_names.csv", text, "utf-8")
    Expected(
        "formula_names.csv",
        "csv",
        ["phone", "name", "comment"],
        [
            (1, ["79160000501", '=HYPERLINK("http://example.invalid/x","click")', "link formula"]),
            (2, ["79160000502", "+SUM(1;2)", "plus formula"]),
            (3, ["79160000503", "@cmd", "at sign"]),
            (4, ["79160000504", "-2+3", "minus arithmetic"]),
            (5, ["+79160000505", "Plain Name", "phone with plus must stay readable"]),
        ],
        encoding="utf-8",
        delimiter=";",
    ).dump()


def make_blank_rows() -> None:
    text = "phone,name\n79160000601,First\n\n,\n79160000602,After Blanks\n\n"
    _csv("blank_rows.csv", text, "utf-8")
    Expected(
        "blank_rows.csv",
        "csv",
        ["phone", "name"],
        # Row 2 is an empty line, row 3 a line of empty cells: both come out as empty rows.
        # The blank line at the very end is not a record (trailing blanks are dropped).
        [
            (1, ["79160000601", "First"]),
            (2, ["", ""]),
            (3, ["", ""]),
            (4, ["79160000602", "After Blanks"]),
        ],
        encoding="utf-8",
        delimiter=",",
    ).dump()


def make_multiline() -> None:
    text = (
        "phone\tname\tcomment\r\n"
        '79160000701\tFirst\t"line one\r\nline two, with comma\r\nline three"\r\n'
        '79160000702\tSecond\t"say ""hi"""\r\n'
    )
    _csv("multiline_comment.tsv", text, "utf-8")
    Expected(
        "multiline_comment.tsv",
        "csv",
        ["phone", "name", "comment"],
        [
            (1, ["79160000701", "First", "line one\r\nline two, with comma\r\nline three"]),
            (2, ["79160000702", "Second", 'say "hi"']),
        ],
        encoding="utf-8",
        delimiter="\t",
    ).dump()


def make_russian_formats() -> None:
    phones = [
        "8 (911) 000-00-01",
        "+7 (911) 000-00-02",
        "8-911-000-00-03",
        "8 911 000 00 04",
        "7(911)0000005",
        "9110000006",
        "+7 911 000-00-07 ",
    ]
    text = "Телефон|Имя\n" + "".join(f"{p}|Клиент {i}\n" for i, p in enumerate(phones, 1))
    _csv("russian_formats.csv", text, "utf-8")
    Expected(
        "russian_formats.csv",
        "csv",
        ["Телефон", "Имя"],
        [(i, [p, f"Клиент {i}"]) for i, p in enumerate(phones, 1)],
        encoding="utf-8",
        delimiter="|",
    ).dump()


def make_short_long_rows() -> None:
    text = (
        "phone,name,city\n"
        "79160000801,Short\n"
        "79160000802,Long,Moscow,EXTRA,\n"
        "79160000803,Trail,Kazan,\n"
    )
    _csv("short_long_rows.csv", text, "utf-8")
    Expected(
        "short_long_rows.csv",
        "csv",
        ["phone", "name", "city"],
        [
            (1, ["79160000801", "Short", ""]),
            (2, ["79160000802", "Long", "Moscow"]),
            (3, ["79160000803", "Trail", "Kazan"]),
        ],
        encoding="utf-8",
        delimiter=",",
        # Empty trailing cells beyond the header are dropped; non-empty ones are reported.
        extra={2: ["EXTRA", ""]},
    ).dump()


BITRIX_NAMES = [
    "Иванов Иван", "Петрова Мария", "Сидоров Олег", "Кузнецова Ольга", "Смирнов Павел",
    "Попова Ирина", "Васильев Денис", "Соколова Анна", "Михайлов Артём", "Новикова Елена",
]  # fmt: skip


def bitrix_rows() -> list[list[str]]:
    """~30 mixed rows: good phones in many styles, a few bad ones, a duplicate, a blank row."""
    styles = [
        "+7 916 000-1{0}-{1:02d}",
        "8 (916) 000-1{0}-{1:02d}",
        "7916000 1{0} {1:02d}",
        "8916000-1{0}{1:02d}",
    ]
    rows: list[list[str]] = []
    for i in range(28):
        phone = styles[i % 4].format(i // 10, i)
        rows.append([phone, BITRIX_NAMES[i % 10], f"{1000 + 37 * i},{i % 100:02d}",
                     f"{(i % 28) + 1:02d}.12.2026"])  # fmt: skip
    rows[5][0] = "7,91600E+10"  # digits lost in Excel
    rows[9][0] = "не указан"
    rows[14] = ["", "", "", ""]  # blank line in the middle
    rows[20] = list(rows[3])  # exact duplicate of row 4
    rows[23][0] = "+7 916 000-12-23 доб. 45"
    rows.append(["8 (916) 000-19-99, 8 (916) 000-19-98", "Орлов Глеб", "500,00", "01.12.2026"])
    return rows


def make_bitrix() -> None:
    header = ["Телефон", "Имя", "Сумма долга", "Дата платежа"]
    rows = bitrix_rows()

    def line(cells: list[str]) -> str:
        return ";".join(f'"{c}"' if c else "" for c in cells) + "\r\n"

    text = "\ufeff" + line(header) + "".join(line(r) for r in rows)
    _csv("bitrix24_export.csv", text, "utf-8")
    Expected(
        "bitrix24_export.csv",
        "csv",
        header,
        [(i, r) for i, r in enumerate(rows, 1)],
        encoding="utf-8-sig",
        delimiter=";",
    ).dump()


def _workbook() -> Workbook:
    wb = Workbook()
    # Fixed document timestamps keep regenerated files' content stable (zip times still vary).
    wb.properties.created = wb.properties.modified = dt.datetime(2026, 1, 1)
    return wb


def make_xlsx_numeric() -> None:
    wb = _workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "Лист1"  # noqa: RUF001 - Excel's Russian default sheet name
    ws.append(["Телефон", "Имя", "Сумма", "Дата", "Активен"])
    ws.append([79160000901.0, "Numeric Float", 1500.5, dt.date(2026, 12, 1), True])
    ws.append([79160000902, "Numeric Int", 200, dt.datetime(2026, 12, 2, 9, 30), False])
    ws.append(["+7 916 000-09-03", "Text With Plus", 0.1, dt.datetime(2026, 12, 3), None])
    ws.append([89160000904.0, "Eight Prefix", 1234567890123456.0, None, None])
    ws.append([None, None, None, None, None])
    ws.append([7.91600e10, "Float Lost Digits", -3.25, None, None])
    wb.save(HERE / "xlsx_numeric_phones.xlsx")
    Expected(
        "xlsx_numeric_phones.xlsx",
        "xlsx",
        ["Телефон", "Имя", "Сумма", "Дата", "Активен"],
        [
            (1, ["79160000901", "Numeric Float", "1500.5", "2026-12-01", "TRUE"]),
            (2, ["79160000902", "Numeric Int", "200", "2026-12-02T09:30:00", "FALSE"]),
            (3, ["+7 916 000-09-03", "Text With Plus", "0.1", "2026-12-03", ""]),
            (4, ["89160000904", "Eight Prefix", "1234567890123456", "", ""]),
            (5, ["", "", "", "", ""]),
            (6, ["79160000000", "Float Lost Digits", "-3.25", "", ""]),
        ],
        sheet="Лист1",  # noqa: RUF001
    ).dump()


def make_xlsx_two_sheets() -> None:
    wb = _workbook()
    notes = wb.active
    assert notes is not None
    notes.title = "Инструкция"
    notes.append(["Выгрузка из CRM. Данные на втором листе."])
    data = wb.create_sheet("Данные")
    data.append([None])  # an empty first row: the header is on sheet row 2
    data.append(["phone", "name"])
    data.append([79160001001, "Second Sheet A"])
    data.append(["8 (916) 000-10-02", "Second Sheet B"])
    wb.save(HERE / "xlsx_two_sheets.xlsx")
    Expected(
        "xlsx_two_sheets.xlsx",
        "xlsx",
        ["phone", "name"],
        [(1, ["79160001001", "Second Sheet A"]), (2, ["8 (916) 000-10-02", "Second Sheet B"])],
        sheet="Данные",
        header_row=2,
    ).dump()


def main() -> None:
    EXPECTED.mkdir(exist_ok=True)
    for make in (
        make_cp1251_semicolon, make_utf8_bom, make_bad_phones, make_duplicates,
        make_formula_names, make_blank_rows, make_multiline, make_russian_formats,
        make_short_long_rows, make_bitrix, make_xlsx_numeric, make_xlsx_two_sheets,
    ):  # fmt: skip
        make()


if __name__ == "__main__":
    main()
