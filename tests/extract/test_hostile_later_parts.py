"""A far cell after megabytes of ordinary rows, in a later block of the sheet than the first,
is refused as surely as one in the first: the scan measures every block (numpy, a thread
inflating ahead), and hands the odd ones to the exact parser wherever they are."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.extract import Limits, ReadOptions
from tests.extract.helpers import read_all
from tests.extract.hostile import Repeat, header_row, workbook
from tests.extract.test_hostile_xlsx import _refused

HEAD = header_row("phone", "name")
ROW = (
    b'<row r="2"><c r="A2" t="inlineStr"><is><t>79160000001</t></is></c>'
    b'<c r="B2" t="inlineStr"><is><t>name</t></is></c></row>'
)
FILLER = 30_000  # rows of ~130 bytes: ~3.9 MB, the far cell comes in the 4th block or later
STRINGS = (
    b'<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.openxmlformats.org/'
    b'spreadsheetml/2006/main" count="1" uniqueCount="1"><si><t>x</t></si></sst>'
)


def _late(tmp_path: Path, far: str, strings: bytes | None = None) -> Path:
    body = Repeat(ROW, FILLER, head=HEAD.encode(), tail=far.encode())
    return workbook(tmp_path / "late.xlsx", body, strings=strings)


@pytest.mark.parametrize(
    ("far", "found"),
    [
        ('<row r="9"><c r="ALM9" t="s"><v>0</v></c></row>', r"A1:ALM9 \(9 rows x 1,001 col"),
        ('<row r="9"><c r="xfd9"><v>1</v></c></row>', r"A1:XFD9 "),
        ('<row r="9"><c r = "XFD9"><v>1</v></c></row>', r"A1:XFD9 "),  # the exact parser's
        ('<row r="9"><c t="n" r="XFD9"><v>1</v></c></row>', r"A1:XFD9 "),
        ('<row r="9"><c r="XFD09"><v>1</v></c></row>', r"A1:XFD9 "),  # a leading zero
    ],
)
def test_a_far_column_in_a_later_block_is_refused(tmp_path: Path, far: str, found: str) -> None:
    path = _late(tmp_path, far, STRINGS)
    _refused(path, found + r".*more than input\.max_columns = 1,000")


def test_a_far_row_with_a_long_ref_in_a_later_block_is_measured(tmp_path: Path) -> None:
    far = '<row r="1048576"><c r="B1048576" t="s"><v>0</v></c></row>'
    path = _late(tmp_path, far, STRINGS)
    _refused(
        path,
        r"A1:B1048576 \(1,048,576 rows x 2 columns.*\), 2,097,152 cells to hold, more "
        r"than input\.max_cells = 1,000,000",
        Limits(max_cells=1_000_000),
    )


def test_text_that_only_looks_like_a_far_cell_is_read(tmp_path: Path) -> None:
    # escaped in a shared string and in an inline string: text, not a cell
    strings = STRINGS.replace(b"<t>x</t>", b'<t>&lt;c r="XFD1048576"/&gt;</t>')
    far = (
        '<row r="3"><c r="A3" t="s"><v>0</v></c>'
        '<c r="B3" t="inlineStr"><is><t>&lt;c r="XFD9"&gt;</t></is></c></row>'
    )
    path = _late(tmp_path, far, strings)
    for engine in ("calamine", "openpyxl"):
        info, rows, _ = read_all(path, ReadOptions(xlsx_engine=engine))
        assert info.header == ("phone", "name")
        assert rows[-1][1] == ['<c r="XFD1048576"/>', '<c r="XFD9">']
