"""XLSX for people, streamed with XlsxWriter in ``constant_memory`` mode.

* the header row is bold and frozen, an autofilter spans the data;
* column widths come from the header and the first :data:`WIDTH_SAMPLE` rows, capped at
  :data:`MAX_WIDTH` characters (a wide comment column does not push the rest off screen);
* ``integer``/``decimal`` columns hold number cells, ``date``/``datetime`` date cells with a
  format (:mod:`~pipeline.reports.typed_cells`); everything else — phones, ids, names — is a string
  cell, written verbatim: never a number (leading zeros and 11+ digit phones survive) and
  never a formula (``=HYPERLINK(...)`` is shown, not run; no apostrophe is needed, and the
  workbook's ``strings_to_*`` conversions are off in case a cell is ever written with
  ``write()``). Control characters are kept with Excel's own ``_xHHHH_`` escape.

Rows go to a temporary file as they are written (XlsxWriter's constant-memory mode keeps one
row in memory), so a million rows cost no more memory than ten. A sheet holds at most
1,048,575 data rows and a cell 32,767 characters: more is an
:class:`~pipeline.errors.OutputFileError` that says to write CSV, never a silent cut.

Usage::

    with XlsxTableWriter(Path("results.xlsx"), ["row", "phone"], kinds=["integer"]) as out:
        out.write_row(["1", "79160000001"])
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any

import xlsxwriter

from pipeline.errors import OutputFileError
from pipeline.reports.formats import CellKind
from pipeline.reports.table_base import TableWriter
from pipeline.reports.typed_cells import xlsx_value

MAX_ROWS = 1_048_576  # Excel's rows per sheet, the header included
MAX_CHARS = 32_767  # Excel's characters per cell
WIDTH_SAMPLE = 1000  # rows whose text widens the columns
MIN_WIDTH, MAX_WIDTH = 6, 60
FILTER_BUTTON = 3  # the autofilter arrow covers the end of a header cell
NUMBER_FORMATS: dict[CellKind, str] = {
    "integer": "0",
    "decimal": "#,##0.00##########",  # two decimals at least, every one the value has
    "date": "yyyy-mm-dd",
    "datetime": "yyyy-mm-dd hh:mm:ss",
}

# Columns shown in a date format are as wide as the format, whatever their text was.
FIXED_WIDTHS: dict[CellKind, int] = {"date": 12, "datetime": 21}


class XlsxTableWriter(TableWriter):
    """One-sheet XLSX (layout and cell rules in the module docstring)."""

    def __init__(
        self,
        path: Path,
        header: Sequence[str],
        *,
        kinds: Sequence[CellKind] | None = None,
        sheet_title: str = "Sheet1",
    ) -> None:
        super().__init__(path, header, kinds)
        options = {
            "constant_memory": True,
            "strings_to_numbers": False,
            "strings_to_formulas": False,
            "strings_to_urls": False,
            "tmpdir": str(path.parent),  # the row data holds phones: keep it with the output
        }
        self._book: Any = xlsxwriter.Workbook(self._file.fh, options)
        self._sheet: Any = self._book.add_worksheet(_sheet_title(sheet_title))
        bold = self._book.add_format({"bold": True})
        formats = {k: self._book.add_format({"num_format": f}) for k, f in NUMBER_FORMATS.items()}
        self._writers = [self._cell_writer(kind, formats.get(kind)) for kind in self.kinds]
        self._widths = [
            min(max(len(h) + FILTER_BUTTON, FIXED_WIDTHS.get(k, 0)), MAX_WIDTH)
            for h, k in zip(self.header, self.kinds, strict=True)
        ]
        for col, name in enumerate(self.header):
            self._string(0, col, name, bold)
        self._sheet.freeze_panes(1, 0)

    def write_row(self, cells: Sequence[str]) -> None:
        row = self.rows_written + 1
        if row >= MAX_ROWS:
            raise OutputFileError(
                f"{self.path}: more than {MAX_ROWS - 1:,} rows do not fit one Excel sheet; "
                f"write a .csv or .jsonl file instead."
            )
        values = self._pad(cells)
        for col, text in enumerate(values):
            if text:  # an empty cell is left blank (no cell at all)
                self._writers[col](row, col, text)
        if row <= WIDTH_SAMPLE:
            self._widen(values)
        self.rows_written = row

    def close(self) -> None:
        if self._file.fh.closed:
            return
        for col, width in enumerate(self._widths):
            self._sheet.set_column(col, col, max(width, MIN_WIDTH))
        if self.width:
            self._sheet.autofilter(0, 0, self.rows_written, self.width - 1)
        self._book.close()  # assembles the archive into the private temporary file
        self._file.commit()

    def abort(self) -> None:
        # XlsxWriter keeps the rows in a named temporary file until close(): remove it too.
        sheet = self._sheet
        if getattr(sheet, "row_data_fh", None) is not None and not sheet.row_data_fh_closed:
            sheet.row_data_fh.close()
            sheet.row_data_fh_closed = True
        if getattr(sheet, "row_data_filename", None):
            Path(sheet.row_data_filename).unlink(missing_ok=True)
        super().abort()

    def _cell_writer(self, kind: CellKind, fmt: Any) -> Callable[[int, int, str], None]:
        if kind == "text":
            return self._string

        def typed(row: int, col: int, text: str) -> None:
            value = xlsx_value(kind, text)
            if isinstance(value, str):
                self._string(row, col, value)
            elif isinstance(value, date):  # datetime is a date too
                self._sheet.write_datetime(row, col, _as_datetime(value), fmt)
            else:
                self._sheet.write_number(row, col, value, fmt)

        return typed

    def _string(self, row: int, col: int, text: str, fmt: Any = None) -> None:
        if len(text) > MAX_CHARS // 2 and len(text.encode("utf-16-le")) // 2 > MAX_CHARS:
            raise OutputFileError(
                f"{self.path}: the cell of row {row}, column {self.header[col]!r} has more than "
                f"{MAX_CHARS:,} characters, more than an Excel cell holds; write a .csv or "
                f".jsonl file instead."
            )
        self._sheet.write_string(row, col, text, fmt)

    def _widen(self, values: list[str]) -> None:
        for col, text in enumerate(values):
            if self.kinds[col] in FIXED_WIDTHS:
                continue  # shown in its number format, not as the text
            if text and len(text) + 2 > self._widths[col]:
                longest = max(len(line) for line in text.split("\n"))
                self._widths[col] = min(max(self._widths[col], longest + 2), MAX_WIDTH)


def _as_datetime(value: date) -> datetime:
    return value if isinstance(value, datetime) else datetime(value.year, value.month, value.day)


def _sheet_title(title: str) -> str:
    # Excel forbids these in sheet names and allows at most 31 characters.
    cleaned = "".join("_" if ch in "[]:*?/\\" else ch for ch in title).strip("'") or "Sheet1"
    return cleaned[:31]
