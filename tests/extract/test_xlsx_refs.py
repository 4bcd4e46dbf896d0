"""The vectorised cell-tag scan (xlsx_refs.cell_box): the box of the refs in the common shape,
None (the exact parser's turn) for anything else. The answers are the ones the regex scan it
replaced gave; a ref it cannot compare safely (a leading zero, past XFD1048576) is not its."""

from __future__ import annotations

import pytest

from pipeline.extract.xlsx_refs import Scratch, cell_box


def _box(xml: str) -> tuple[int, int] | None:
    return cell_box(xml.encode(), Scratch())


def _cells(*refs: str) -> str:
    return "".join(f'<c r="{ref}" t="n"><v>1</v></c>' for ref in refs)


@pytest.mark.parametrize(
    ("xml", "box"),
    [
        ('<row r="1"></row>', (0, 0)),
        ('<row r="2">' + _cells("A2", "B2", "E2") + "</row>", (2, 5)),
        ('<row r="7">' + _cells("Z7", "AA7") + "</row>", (7, 27)),
        ('<cols><col min="1" max="3"/></cols><row r="2">' + _cells("B2") + "</row>", (2, 2)),
        ('<row r="3"><c r="xfd3"><v>1</v></c></row>', (3, 16384)),  # lower case
        ('<row r="3"><c r="B3"/><c r="C4">', (4, 3)),  # empty cells count too
        ('<row r="5"><c r="B5">\n<v>1</v></c><c r="C5"\t/></row>', (5, 3)),
        # 8 to 10 characters: the slower vector path, mixed with short ones
        ('<row r="1048576">' + _cells("A2", "B1048576") + "</row>", (1048576, 2)),
        ('<row r="1048576">' + _cells("XFD1048576", "C9") + "</row>", (1048576, 16384)),
        ('<row r="9">' + _cells("ZZ99", "ABC12345", "B9") + "</row>", (12345, 731)),
        # column and row each from their own cell
        ('<row r="9">' + _cells("B900", "ZZ1", "C9") + "</row>", (900, 702)),
    ],
)
def test_the_box_of_regular_refs(xml: str, box: tuple[int, int]) -> None:
    assert _box(xml) == box


@pytest.mark.parametrize(
    "xml",
    [
        '<row r="9"><c><v>1</v></c></row>',  # no r
        "<row r='9'><c r='A9'><v>1</v></c></row>",  # single quotes
        '<row r="9"><c r = "A9"><v>1</v></c></row>',
        '<row r="9"><c\tr="A9"><v>1</v></c></row>',
        '<row r="9"><c  r="A9"><v>1</v></c></row>',
        '<row r="9"><c t="n" r="A9"><v>1</v></c></row>',  # r not first
        '<row r="9"><c r="A9" t="n" r="XFD9"><v>1</v></c></row>',  # a second r
        '<row r="9" x="1" r="5"><c r="A9"/></row>',  # a second r on a row
        '<row r="9"><c r="A9" t="inlineStr"><is><t>x r= y</t></is></c></row>',
        '<row r="9"><c r="A9" t="inlineStr"><is><t>x r = y</t></is></c></row>',
        '<cols><col r="ZZ9"/></cols>',  # an r the cell tags do not explain
        '<row r="9"><c r="A09"><v>1</v></c></row>',  # a leading zero
        '<row r="9"><c r="A0"><v>1</v></c></row>',
        '<row r="9"><c r="AAAA9"><v>1</v></c></row>',  # past XFD
        '<row r="9"><c r="A10000000"><v>1</v></c></row>',  # past 1,048,576
        '<row r="9"><c r="A9B"><v>1</v></c></row>',
        '<row r="9"><c r="9"><v>1</v></c></row>',
        '<row r="9"><c r="A"><v>1</v></c></row>',
        '<row r="9"><c r=""><v>1</v></c></row>',
        '<row r="9"><c r="A9"x><v>1</v></c></row>',
        '<row r="9"><c r="\xc49"><v>1</v></c></row>',  # not ASCII
    ],
)
def test_anything_else_is_left_to_the_exact_parser(xml: str) -> None:
    assert _box(xml) is None


def test_a_far_cell_among_thousands_is_found_wherever_it_is() -> None:
    rows = [f'<row r="{n}">{_cells(f"A{n}", f"B{n}", f"C{n}")}</row>' for n in range(1, 30000)]
    scratch = Scratch()
    for at in (0, 12345, len(rows) - 1):
        far = list(rows)
        far.insert(at, '<row r="77"><c r="ALM77" t="s"><v>0</v></c></row>')
        assert cell_box("".join(far).encode(), scratch) == (29999, 1001)
    assert cell_box("".join(rows).encode(), scratch) == (29999, 3)  # the scratch is reused
