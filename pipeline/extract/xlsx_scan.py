"""Scans of a worksheet's XML and of the shared-strings XML, in bounded memory.

What python-calamine does with a sheet (found by experiment, see tests/extract/test_hostile):
it allocates the whole rectangle its non-empty cells span, 32 bytes a cell, taking each cell's
position from the cell's own ``r`` attribute (any case, leading zeros, any quoting or spacing
XML allows, the last one when repeated), or, for a cell without one, from the cell before it.
The ``<dimension>`` the sheet declares is not used: a file can declare ``A1:B2`` and hold a
cell at ``XFD1048576`` (a 550 GB allocation, then an abort). So the real extent is measured.

:class:`SheetScan` takes the inflated XML block by block. The common case (Excel, LibreOffice,
openpyxl, 1C: every cell written ``<c r="B5" ...>``) is checked and measured a part at a
time with numpy (:mod:`.xlsx_refs`, a few array passes instead of a regex match per cell):
the box of the cells' refs, every cell tag in that shape. Anything else (a cell without
``r``, namespace prefixes, comments, CDATA...) sends the sheet to :mod:`.xlsx_exact`, an
expat parse that follows calamine's rules exactly; so does a box past a bound (the fast box
counts empty cells too, which calamine skips).

Both also bound the text of one cell (``max_cell_chars``): a stretch of a sheet longer than
the bound without a ``</c>`` is measured exactly; text that goes on without a tag for 16 times
the bound is refused at once, before it is held whole. :class:`StringsScan` does the same for
the shared strings (``</si>``), which the libraries load whole before any row.

Usage::

    scan = SheetScan(limits)
    for block in blocks:
        scan.feed(block)              # raises Irregular (use xlsx_exact) or LongText
    scan.finish()
    scan.rows, scan.columns           # the box holding every cell (1-based maxima)
"""

from __future__ import annotations

import re

from pipeline.extract.options import Limits
from pipeline.extract.xlsx_refs import Scratch, cell_box

_ENTITY = re.compile(rb"&[^;&<\s]{1,40};")
_TAG = re.compile(rb"<[^>]*>")
_CONTINUATION = bytes(range(0x80, 0xC0))
_CELL_REF = re.compile(rb'<c r="([A-Za-z]+)([0-9]+)"')
_PREFIXED = re.compile(rb":(?:c|row|si)[\s/>]")


class Irregular(Exception):  # noqa: N818 - a signal to switch scans, not an error
    """The XML is not in the common shape; scan it with the exact parser."""


class LongText(Exception):  # noqa: N818 - turned into an InputFileError by the caller
    """A cell (or shared string) holds more than ``max_cell_chars`` characters."""

    def __init__(self, chars: int, cell: str | None) -> None:
        super().__init__(chars, cell)
        self.chars = chars
        self.cell = cell


def text_chars(xml: bytes) -> int:
    """Characters of the text in an XML fragment (tags removed, ``&...;`` one character)."""
    text = _TAG.sub(b"", xml)
    chars = len(text.translate(None, _CONTINUATION))
    return chars - sum(len(entity) - 1 for entity in _ENTITY.findall(text))


class _Stretches:
    """Finds stretches longer than ``limit`` bytes between two ``anchor`` ends and measures
    their text exactly (only such a stretch can hold a text that long)."""

    def __init__(self, anchor: bytes, limit: int) -> None:
        self.anchor = anchor
        self.limit = limit
        self.tail = b""  # the bytes after the last anchor seen (at most ~limit of them)
        self.measured: int | None = None  # characters so far of a stretch being measured
        self.cell: str | None = None

    def feed(self, part: bytes) -> None:
        size = len(self.anchor)
        width = self.limit + size
        if self.measured is not None:
            last = self._measure(part, 0, b"")
            if last < 0:
                return
        else:
            last = -len(self.tail)  # where the stretch began, before this part
        while True:
            found = part.rfind(self.anchor, max(last, 0), last + width)
            if found >= 0 and found + size > last:
                last = found + size
                continue
            before = self.tail[len(self.tail) + last :] if last < 0 else b""
            if last + width >= len(part):
                self.tail = before + part[max(last, 0) :]
                return
            self.measured, self.cell = 0, None
            last = self._measure(part, max(last, 0), before)
            if last < 0:
                return

    def _measure(self, part: bytes, start: int, before: bytes) -> int:
        """Count the text from ``start`` (after ``before``) to the next anchor; the anchor's
        end, or -1 when the stretch goes on into the next part."""
        end = part.find(self.anchor, start)
        piece = before + (part[start:] if end < 0 else part[start:end])
        if self.cell is None:
            ref = _CELL_REF.search(piece)
            self.cell = (ref.group(1) + ref.group(2)).decode() if ref else None
        assert self.measured is not None
        self.measured += text_chars(piece)
        if self.measured > self.limit:
            raise LongText(self.measured, self.cell)
        self.tail = b""
        if end < 0:
            return -1
        self.measured = None
        return end + len(self.anchor)


class _Parts:
    """Inflated XML cut before its last ``<``, so no tag is split between two parts."""

    def __init__(self, limits: Limits) -> None:
        # text this long without a tag is certainly more than max_cell_chars characters
        self.cap = 16 * limits.max_cell_chars + (1 << 16)
        self.carry = b""
        self.first = True

    def cut(self, data: bytes) -> bytes | None:
        block = self.carry + data
        at = block.rfind(b"<")
        if at <= 0:
            self.carry = block
            if len(block) > self.cap:
                raise LongText(len(block), None)
            return None
        self.carry = block[at:]
        part = block[:at]
        if self.first:
            self.first = False
            if part.startswith(b"<?xml"):  # the declaration is the one allowed <? ... ?>
                part = part[part.find(b"?>") + 2 :]
        return _regular(part)

    def rest(self) -> bytes:
        part, self.carry = self.carry, b""
        return _regular(part)


def _regular(part: bytes) -> bytes:
    """``part``, unless it holds a comment, CDATA, a processing instruction or a namespace
    prefix on a cell, row or string: their text could hide a fake ``</c>`` or a cell."""
    # one-byte searches first: "!" and "?" are rare in sheet XML, "<!" would cost a slow pass
    if (b"!" in part and b"<!" in part) or (b"?" in part and b"<?" in part):
        raise Irregular
    if b":" in part and _PREFIXED.search(part):
        raise Irregular
    return part


class SheetScan:
    """The fast scan of a worksheet (module docstring); ``rows``/``columns`` after finish()."""

    def __init__(self, limits: Limits) -> None:
        self.rows = 0
        self.columns = 0
        self._limits = limits
        self._parts = _Parts(limits)
        self._cells = _Stretches(b"</c>", limits.max_cell_chars)
        self._scratch = Scratch()

    def feed(self, data: bytes) -> None:
        part = self._parts.cut(data)
        if part is not None:
            self._cells.feed(part)
            self._extent(part)

    def finish(self) -> None:
        part = self._parts.rest()
        self._cells.feed(part)
        self._extent(part)

    def _extent(self, part: bytes) -> None:
        box = cell_box(part, self._scratch)
        if box is None:
            raise Irregular
        self.rows = max(self.rows, box[0])
        self.columns = max(self.columns, box[1])
        if not within(self.rows, self.columns, self._limits):
            raise Irregular  # past a bound, perhaps only by empty cells: measure exactly


class StringsScan:
    """The fast scan of the shared strings: no text longer than ``max_cell_chars``."""

    def __init__(self, limits: Limits) -> None:
        self._parts = _Parts(limits)
        self._strings = _Stretches(b"</si>", limits.max_cell_chars)

    def feed(self, data: bytes) -> None:
        part = self._parts.cut(data)
        if part is not None:
            self._strings.feed(part)

    def finish(self) -> None:
        self._strings.feed(self._parts.rest())


def within(rows: int, columns: int, limits: Limits) -> bool:
    """Whether a sheet whose cells reach row ``rows`` and column ``columns`` fits the bounds."""
    return columns <= limits.max_columns and rows * columns <= limits.max_cells


def column_number(letters: str) -> int:
    """1-based column number of spreadsheet letters, any case (A → 1, AB → 28)."""
    number = 0
    for ch in letters.upper():
        number = number * 26 + ord(ch) - 64
    return number
