"""Hostile and oversized workbooks end with a message naming the bound, the value found and
the input.* setting, for both engines, before a spreadsheet library holds any of it.

What python-calamine does (found by experiment, see xlsx_scan's docstring): it allocates the
rectangle its non-empty cells span, positions taken from the cells' own references; the
declared <dimension> is ignored, so a file can lie in it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from python_calamine import CalamineWorkbook

from pipeline.errors import InputFileError
from pipeline.extract import Limits, ReadOptions, check_structure, open_table
from tests.extract.helpers import read_all
from tests.extract.hostile import Repeat, header_row, workbook, write_zip

ENGINES = ["calamine", "openpyxl"]
HEAD = header_row("phone", "name")
ROW2 = '<row r="2"><c r="A2" t="inlineStr"><is><t>79160000001</t></is></c></row>'
FAR = '<row r="1048576"><c r="XFD1048576" t="inlineStr"><is><t>x</t></is></c></row>'


def _refused(path: Path, pattern: str, limits: Limits | None = None) -> None:
    """Both engines refuse the file with the same message; check_structure too."""
    messages = set()
    for engine in ENGINES:
        options = ReadOptions(xlsx_engine=engine, limits=limits or Limits())  # type: ignore[arg-type]
        with pytest.raises(InputFileError, match=pattern) as err:
            read_all(path, options)
        messages.add(str(err.value))
        with pytest.raises(InputFileError) as checked:
            check_structure(path, options)
        assert str(checked.value) == str(err.value)
    assert len(messages) == 1


def test_a_far_cell_is_refused_naming_the_extent_and_the_setting(tmp_path: Path) -> None:
    path = workbook(tmp_path / "far.xlsx", HEAD + ROW2 + FAR, dimension="A1:XFD1048576")
    _refused(
        path,
        r"far\.xlsx: sheet 'Data': its cells span A1:XFD1048576 \(1,048,576 rows x "
        r"16,384 columns.*more than input\.max_columns = 1,000",
    )


def test_a_file_lying_in_its_dimension_is_measured_by_its_cells(tmp_path: Path) -> None:
    path = workbook(tmp_path / "liar.xlsx", HEAD + ROW2 + FAR, dimension="A1:B2")
    _refused(path, r"span A1:XFD1048576 .*the sheet declares A1:B2 as its size")


def test_a_sheet_past_the_cell_bound_names_max_cells(tmp_path: Path) -> None:
    far_row = '<row r="6000000"><c r="B6000000"><v>1</v></c></row>'
    path = workbook(tmp_path / "rows.xlsx", HEAD + ROW2 + far_row)
    _refused(
        path,
        r"A1:B6000000 \(6,000,000 rows x 2 columns.*12,000,000 cells to hold, more "
        r"than input\.max_cells = 10,000,000",
    )
    # raised, the same file is read (calamine holds ~400 MB for it; openpyxl streams)
    options = ReadOptions(limits=Limits(max_cells=12_000_000), xlsx_engine="openpyxl")
    with open_table(path, options) as table:
        assert table.info.header == ("phone", "name")


@pytest.mark.parametrize(
    "cells",
    [
        '<row r="9"><c t="n"><v>1</v></c>' + "<c><v>1</v></c>" * 1200 + "</row>",  # no r
        "<row r='1048576'><c r='XFD1048576'><v>1</v></c></row>",  # single quotes
        '<row r="3"><c r = "XFD3"><v>1</v></c></row>',  # spaces around =
        '<row r="3"><c\tr="XFD3"><v>1</v></c></row>',  # a tab
        '<row r="3"><c r="xfd3"><v>1</v></c></row>',  # lower case
        '<row r="3"><c r="XFD0000003"><v>1</v></c></row>',  # leading zeros
        '<row r="3"><c t="n" r="XFD3"><v>1</v></c></row>',  # r not first
        '<row r="3"><c r="B3" t="n"><v>1</v></c><c r="ZZZZ3"><v>1</v></c></row>',
        '<x:row xmlns:x="urn:x" r="3"><x:c r="XFD3"><x:v>1</x:v></x:c></x:row>',  # prefixes
        '<row r="3"><!-- a comment --><c r="XFD3"><v>1</v></c></row>',
    ],
)
def test_every_spelling_of_a_far_cell_is_caught(tmp_path: Path, cells: str) -> None:
    path = workbook(tmp_path / "odd.xlsx", HEAD + ROW2 + cells)
    _refused(path, r"its cells span A1:\w+ \(.*more (columns )?than input\.max_(columns|cells)")


def test_a_repeated_reference_attribute_is_a_damaged_workbook(tmp_path: Path) -> None:
    # calamine takes the last r of <c r="A3" r="XFD3">; such XML is not well-formed
    path = workbook(
        tmp_path / "dup.xlsx", HEAD + '<row r="3"><c r="A3" r="XFD3"><v>1</v></c></row>'
    )
    _refused(path, r"cannot read the workbook \(part xl/worksheets/sheet1\.xml is not well-formed")


def test_a_declared_but_empty_far_extent_is_read(tmp_path: Path) -> None:
    # A huge declared size, and a far cell holding only a style: calamine holds neither, and
    # openpyxl is told to ignore the declared size rather than pad every row to XFD.
    far_style = '<row r="1048576"><c r="XFD1048576" s="1"/></row>'
    path = workbook(tmp_path / "styled.xlsx", HEAD + ROW2 + far_style, dimension="A1:XFD1048576")
    for engine in ENGINES:
        info, rows, _ = read_all(path, ReadOptions(xlsx_engine=engine))  # type: ignore[arg-type]
        assert (info.header, rows) == (("phone", "name"), [(1, ["79160000001", ""])])
    sheet = CalamineWorkbook.from_path(str(path)).get_sheet_by_name("Data")
    assert (sheet.height, sheet.width) == (2, 2)  # calamine itself ignores the dimension


@pytest.mark.parametrize(
    ("body", "where"),
    [
        (
            '<row r="2"><c r="B2" t="inlineStr"><is><t>' + "Я" * 40_000 + "</t></is></c></row>",
            "cell B2",
        ),
        (
            '<row r="2"><c r="B2" t="inlineStr"><is>'
            + ("<r><t>" + "a" * 1000 + "</t></r>") * 40
            + "</is></c></row>",
            "cell B2",
        ),
        (
            '<row r="2"><c r="B2" t="inlineStr"><is><t><![CDATA['
            + "c" * 40_000
            + "]]></t></is></c></row>",
            "cell B2",
        ),
    ],
)
def test_a_cell_longer_than_the_bound_is_refused(tmp_path: Path, body: str, where: str) -> None:
    path = workbook(tmp_path / "long.xlsx", HEAD + ROW2 + body)
    _refused(
        path,
        rf"sheet 'Data', {where} holds 40,000 characters or more, more than "
        r"input\.max_cell_chars = 32,767",
    )
    limits = Limits(max_cell_chars=40_000)
    assert check_structure(path, ReadOptions(limits=limits)).header == ("phone", "name")


def test_a_long_shared_string_is_refused(tmp_path: Path) -> None:
    strings = (
        '<?xml version="1.0"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/'
        'main"><si><t>ok</t></si><si><t>' + "b" * 50_000 + "</t></si></sst>"
    ).encode()
    path = workbook(
        tmp_path / "sst.xlsx",
        HEAD + '<row r="2"><c r="A2" t="s"><v>0</v></c></row>',
        strings=strings,
    )
    _refused(
        path,
        r"a text of its shared strings holds 50,000 characters or more, more than "
        r"input\.max_cell_chars",
    )


def test_text_that_never_ends_is_refused_after_a_bounded_part(tmp_path: Path) -> None:
    # a 1 GiB cell (1 MB on disk): with the size bounds raised, the cell bound stops it
    gib = Repeat(
        b"A" * (1 << 20),
        1024,
        head=HEAD.encode() + b'<row r="2"><c r="A2" t="inlineStr"><is><t>',
        tail=b"</t></is></c></row>",
    )
    path = workbook(tmp_path / "gib.xlsx", gib)
    _refused(
        path,
        r"part xl/worksheets/sheet1\.xml inflates from [\d,]+ to 1,073,742,\d+ bytes "
        r"\(1,0\d\d times\), more than input\.max_xlsx_ratio = 100",
    )
    raised = Limits(max_xlsx_mb=2048, max_xlsx_ratio=2000)
    _refused(
        path,
        r"sheet 'Data', holds a text of [\d,]+ characters or more, more than "
        r"input\.max_cell_chars",
        raised,
    )


def test_a_zip_bomb_is_refused_by_ratio_then_by_size(tmp_path: Path) -> None:
    # ~2 MB on disk, 2 GiB inflated: blank space between the rows compresses ~1000:1
    blank = Repeat(b" " * (1 << 20), 2048, head=HEAD.encode(), tail=ROW2.encode())
    path = workbook(tmp_path / "bomb.xlsx", blank)
    assert path.stat().st_size < 3_000_000
    _refused(
        path,
        r"part xl/worksheets/sheet1\.xml inflates from [\d,]+ to 2,147,48\d,\d{3} "
        r"bytes \(1,0\d\d times\), more than input\.max_xlsx_ratio = 100 times",
    )
    _refused(
        path,
        r"its parts inflate to 2,048 MiB, more than input\.max_xlsx_mb = 512 MiB",
        Limits(max_xlsx_ratio=10_000),
    )


def test_a_part_inflating_past_its_declared_size_is_refused(tmp_path: Path) -> None:
    blank = Repeat(b" " * (1 << 20), 2048, head=HEAD.encode(), tail=ROW2.encode())
    path = workbook(tmp_path / "liar.xlsx", blank, declare={"xl/worksheets/sheet1.xml": 1 << 20})
    _refused(
        path,
        r"part xl/worksheets/sheet1\.xml inflates beyond the 1,048,576 bytes it "
        r"declares",
    )


def test_too_many_parts_are_refused_before_the_archive_is_listed(tmp_path: Path) -> None:
    parts: dict[str, bytes | Repeat] = {f"junk/{i}.bin": b"" for i in range(50)}
    path = write_zip(tmp_path / "many.xlsx", parts, {})
    _refused(
        path,
        r"the archive holds 50 parts, more than input\.max_xlsx_members = 20",
        Limits(max_xlsx_members=20),
    )


def test_a_workbook_within_the_bounds_is_read_by_both_engines(tmp_path: Path) -> None:
    body = HEAD + "".join(
        f'<row r="{n}"><c r="A{n}" t="inlineStr"><is><t>7916000{n:04d}</t></is></c>'
        f'<c r="B{n}" t="inlineStr"><is><t>имя {n}</t></is></c></row>'
        for n in range(2, 5000)
    )
    path = workbook(tmp_path / "ok.xlsx", body, dimension="A1:B4999")
    results = [read_all(path, ReadOptions(xlsx_engine=e))[1] for e in ENGINES]  # type: ignore[arg-type]
    assert results[0] == results[1] and len(results[0]) == 4998
    assert check_structure(path).header == ("phone", "name")


def test_a_checked_file_is_not_scanned_again_until_it_changes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pipeline.extract import xlsx_guard

    scans: list[Path] = []
    real = xlsx_guard._check

    def counted(path: Path, *args: Any) -> None:
        scans.append(path)
        real(path, *args)

    monkeypatch.setattr(xlsx_guard, "_check", counted)
    path = workbook(tmp_path / "book.xlsx", HEAD + ROW2)
    check_structure(path)
    with open_table(path) as table:  # what upload does after the check: no second scan
        assert table.info.header == ("phone", "name")
    assert len(scans) == 1
    workbook(path, HEAD + ROW2 + FAR)  # the same name, new content
    with pytest.raises(InputFileError, match="XFD1048576"):
        open_table(path)
    assert len(scans) == 2
