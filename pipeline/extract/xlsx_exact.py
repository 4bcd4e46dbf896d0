"""The exact scans of a worksheet and of the shared strings: expat, calamine's rules.

The fast scans of :mod:`.xlsx_scan` hand over to these when the XML is not in the common shape
(cells without ``r``, namespace prefixes, comments...) or when their upper bound is past a
limit. expat is C, but every element costs a Python call, so these run ~10 times slower; real
exports rarely need them. A DOCTYPE (which could declare entities) is refused.

Usage::

    rows, columns = exact_sheet(blocks, limits)     # LongText / TooBig / Malformed
    exact_strings(blocks, limits)
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from xml.parsers import expat

from pipeline.extract.options import Limits
from pipeline.extract.xlsx_scan import LongText, column_number, within


class Malformed(Exception):  # noqa: N818 - turned into an InputFileError by the caller
    """A workbook part is not well-formed XML."""


def exact_sheet(blocks: Iterable[bytes], limits: Limits) -> tuple[int, int]:
    """``(rows, columns)``: the 1-based last row and column of the sheet's non-empty cells,
    by calamine's rules, parsing the XML with expat; raises LongText for a long cell and
    TooBig as soon as the cells reach past a bound."""
    state = _Exact(limits, "c")
    _parse(blocks, state)
    return state.rows, state.columns


def exact_strings(blocks: Iterable[bytes], limits: Limits) -> None:
    """Raise LongText for a shared string longer than ``max_cell_chars`` (expat)."""
    _parse(blocks, _Exact(limits, "si"))


def _parse(blocks: Iterable[bytes], state: _Exact) -> None:
    parser = expat.ParserCreate()
    parser.buffer_text = True
    parser.StartElementHandler = state.start
    parser.EndElementHandler = state.end
    parser.CharacterDataHandler = state.text
    parser.StartDoctypeDeclHandler = _no_doctype
    try:
        for block in blocks:
            parser.Parse(block, False)
        parser.Parse(b"", True)
    except expat.ExpatError as exc:
        raise Malformed(str(exc)) from None


def _no_doctype(*_: object) -> None:
    raise expat.ExpatError("a DOCTYPE, which no workbook part has")


class TooBig(Exception):  # noqa: N818 - turned into an InputFileError by the caller
    """The sheet's cells reach at least ``rows`` x ``columns``, past a bound."""

    def __init__(self, rows: int, columns: int) -> None:
        super().__init__(rows, columns)
        self.rows = rows
        self.columns = columns


class _Exact:
    """expat callbacks: positions of ``c`` elements by calamine's rules (module docstring)
    and the text length of each ``c`` (or ``si``) element."""

    def __init__(self, limits: Limits, element: str) -> None:
        self.limits = limits
        self.limit = limits.max_cell_chars
        self.element = element
        self.rows = self.columns = 0
        self.row = self.col = 0  # 0-based, as calamine counts
        self.cell: tuple[int, int] | None = None  # the open element's position
        self.filled = False  # the open cell has a child element (a value)
        self.chars = 0
        self.depth = 0  # elements open inside it

    def start(self, name: str, attrs: dict[str, str]) -> None:
        if self.cell is not None:
            self.filled = True
            self.depth += 1
            return
        local = name.rpartition(":")[2]
        if local == "row":
            number = attrs.get("r", "")
            if number.isdigit() and int(number):
                self.row = int(number) - 1
        elif local == self.element:
            self.cell = self._position(attrs.get("r"))
            self.filled = False
            self.chars = self.depth = 0

    def _position(self, ref: str | None) -> tuple[int, int]:
        match = re.fullmatch(r"([A-Za-z]+)([0-9]+)", ref or "")
        if match is None:
            return self.row, self.col  # no (usable) ref: right after the cell before
        self.col = column_number(match.group(1)) - 1
        return max(int(match.group(2)) - 1, 0), self.col

    def end(self, name: str) -> None:
        if self.depth:
            self.depth -= 1
            return
        if self.cell is not None:
            if self.filled:  # calamine skips empty cells
                self.rows = max(self.rows, self.cell[0] + 1)
                self.columns = max(self.columns, self.cell[1] + 1)
                if not within(self.rows, self.columns, self.limits):
                    raise TooBig(self.rows, self.columns)  # no need to read further
            self.col = self.cell[1] + 1
            self.cell = None
        elif name.rpartition(":")[2] == "row":
            self.row += 1
            self.col = 0

    def text(self, data: str) -> None:
        if self.cell is not None:
            self.chars += len(data)
            if self.chars > self.limit:
                where = _name(*self.cell) if self.element == "c" else None
                raise LongText(self.chars, where)


def _name(row: int, col: int) -> str:
    letters = ""
    col += 1
    while col:
        col, rem = divmod(col - 1, 26)
        letters = chr(65 + rem) + letters
    return f"{letters}{row + 1}"
