"""Streaming table writers: CSV, XLSX and JSON, one interface, rows written as they come.

:func:`open_output` carries out an :class:`~pipeline.reports.formats.OutputFormat` (which
:func:`~pipeline.reports.formats.choose_format` decided); :func:`open_table_writer` is the
same with the format spelled out (tests, files in any encoding the readers know). Files are
0600 and appear only when complete (:class:`~pipeline.reports.files.PrivateFile`); memory does
not grow with the number of rows in any format.

CSV cells go through :func:`~pipeline.reports.safety.neutralise` (the formula rule); XLSX
(:mod:`~pipeline.reports.xlsx`) and JSON (:mod:`~pipeline.reports.jsonout`) keep every cell
verbatim and use ``kinds`` (one :data:`~pipeline.reports.formats.CellKind` per column) to
write numbers and dates as such.

Usage::

    fmt = choose_format(Path("accepted.csv"), source=info)
    with open_output(Path("accepted.csv"), ["row", "phone"], fmt, kinds=["integer"]) as out:
        out.write_row(["1", "79160000001"])

    open_table_writer(path, header, format="csv", encoding="cp1251", delimiter=";")
    write_csv(sys.stdout, lines)     # CSV to an open stream (ledger export), same rule
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TextIO

from pipeline.reports.formats import CellKind, Kind, OutputFormat
from pipeline.reports.safety import TRIGGERS, neutralise
from pipeline.reports.table_base import TableWriter

__all__ = [
    "CsvTableWriter",
    "Format",
    "TableWriter",
    "open_output",
    "open_table_writer",
    "write_csv",
]

Format = Kind  # the name the writers' callers have used
# Where a cell may start a formula: a trigger at the start of a cell, after leading spaces
# (neutralise() looks through them). Cells are joined with NUL for a single search per row.
_MAY_TRIGGER = re.compile(rf"(?:\A|\x00) *[{re.escape(''.join(TRIGGERS))}]")


class CsvTableWriter(TableWriter):
    """CSV with the given encoding and delimiter; ``\\r\\n`` line ends, minimal quoting."""

    def __init__(
        self, path: Path, header: Sequence[str], *, encoding: str = "utf-8", delimiter: str = ","
    ) -> None:
        super().__init__(path, header)
        # cp1251 cannot hold every character; a report must not fail on one, so such a
        # character becomes "?" (UTF-8 encodings can write everything).
        errors = "replace" if encoding == "cp1251" else "strict"
        self._text = io.TextIOWrapper(self._file.fh, encoding=encoding, errors=errors, newline="")
        self._csv = csv.writer(self._text, delimiter=delimiter, lineterminator="\r\n")
        self._csv.writerow([neutralise(h) for h in header])

    def write_row(self, cells: Sequence[str]) -> None:
        self._csv.writerow(self._fit(cells))
        self.rows_written += 1

    def write_rows(self, rows: Iterable[Sequence[str]]) -> None:
        fitted = [self._fit(cells) for cells in rows]
        self._csv.writerows(fitted)  # one C-level loop for the whole batch
        self.rows_written += len(fitted)

    def _fit(self, cells: Sequence[str]) -> list[str]:
        row = list(cells[: self.width])
        # One regex over the joined row finds every cell that could start a formula, so the
        # common row (no cell starts with a trigger) skips the per-cell check. Every cell
        # start is at the beginning or after a NUL, so none is missed; a NUL inside a cell can
        # only cause a harmless extra check.
        if _MAY_TRIGGER.search("\x00".join(row)):
            row = [neutralise(c) for c in row]
        if len(row) < self.width:
            row.extend([""] * (self.width - len(row)))
        return row

    def close(self) -> None:
        if not self._text.closed:
            self._text.flush()
            self._text.detach()  # PrivateFile owns the binary handle and closes it
        self._file.commit()


def open_output(
    path: Path,
    header: Sequence[str],
    fmt: OutputFormat,
    *,
    kinds: Sequence[CellKind] | None = None,
    sheet_title: str = "Sheet1",
) -> TableWriter:
    """A writer for ``path`` in the format ``fmt`` (see the module docstring)."""
    if fmt.kind == "xlsx":
        from pipeline.reports.xlsx import XlsxTableWriter  # lazy: loads XlsxWriter

        return XlsxTableWriter(path, header, kinds=kinds, sheet_title=sheet_title)
    if fmt.kind in ("jsonl", "json"):
        from pipeline.reports.jsonout import JsonTableWriter

        return JsonTableWriter(path, header, kinds=kinds, array=fmt.kind == "json")
    return CsvTableWriter(path, header, encoding=fmt.encoding, delimiter=fmt.delimiter)


def open_table_writer(
    path: Path,
    header: Sequence[str],
    *,
    format: Format = "csv",
    encoding: str = "utf-8",
    delimiter: str = ",",
    sheet_title: str = "Sheet1",
    kinds: Sequence[CellKind] | None = None,
) -> TableWriter:
    """:func:`open_output` with the format spelled out (no suffix rules, no BOM unless
    ``encoding="utf-8-sig"``); the reports themselves use :func:`choose_format`."""
    fmt = OutputFormat(format, delimiter=delimiter, encoding=encoding)
    return open_output(path, header, fmt, kinds=kinds, sheet_title=sheet_title)


def write_csv(out: TextIO, lines: Iterable[Sequence[str]], *, delimiter: str = ",") -> int:
    """Write CSV lines (header first) to an open text stream, every cell through
    :func:`~pipeline.reports.safety.neutralise`; returns the number of data lines.

    ``\r\n`` line ends like every CSV we write: with them the csv module also quotes a cell
    holding a lone ``\r``, which a reader would otherwise take for the end of the line.
    """
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\r\n")
    n = -1
    for n, line in enumerate(lines):  # noqa: B007 - the count is the result
        writer.writerow([neutralise(cell) for cell in line])
    return n
