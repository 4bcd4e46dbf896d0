"""Streaming table writers: CSV (any encoding/delimiter the readers know) and XLSX.

Every cell goes through :func:`~pipeline.reports.safety.neutralise`; files are 0600 and appear
only when complete (:class:`~pipeline.reports.files.PrivateFile`). Rows are written as they
come, so memory does not grow with the number of rows (XLSX uses openpyxl's write-only mode,
which streams rows to a temporary file until the archive is assembled).

Usage::

    with open_table_writer(Path("accepted.csv"), ["row", "phone"]) as out:
        out.write_row(["1", "79160000001"])

    open_table_writer(path, header, format="csv", encoding="cp1251", delimiter=";")
    open_table_writer(path, header, format="xlsx", sheet_title="rejects")
    write_csv(sys.stdout, lines)     # CSV to an open stream (ledger export), same rule
"""

from __future__ import annotations

import csv
import io
import re
from abc import ABC, abstractmethod
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Literal, TextIO

from pipeline.reports.files import CommitOnExit, PrivateFile
from pipeline.reports.safety import TRIGGERS, neutralise

Format = Literal["csv", "xlsx"]
# The control characters XML 1.0 cannot hold (openpyxl's ILLEGAL_CHARACTERS_RE; a test checks
# they agree). Kept here so that importing the writers does not import openpyxl (~0.1 s at the
# start of every CSV run); the XLSX writer imports it when it is used.
ILLEGAL_CHARACTERS_RE = re.compile(r"[\000-\010]|[\013-\014]|[\016-\037]")
# Where a cell may start a formula: a trigger at the start of a cell, after leading spaces
# (neutralise() looks through them). Cells are joined with NUL for a single search per row.
_MAY_TRIGGER = re.compile(rf"(?:\A|\x00) *[{re.escape(''.join(TRIGGERS))}]")


class TableWriter(CommitOnExit, ABC):
    """A table being written; a context manager that commits on success, aborts on error."""

    def __init__(self, path: Path, header: Sequence[str]) -> None:
        self.path = path
        self.width = len(header)
        self.rows_written = 0
        self._file = PrivateFile(path)

    @abstractmethod
    def write_row(self, cells: Sequence[str]) -> None:
        """Write one row (padded or cut to the header's width)."""

    @abstractmethod
    def close(self) -> None:
        """Finish the file and move it into place."""

    def abort(self) -> None:
        """Discard everything written so far."""
        self._file.abort()

    def write_rows(self, rows: Iterable[Sequence[str]]) -> None:
        """Write many rows; the same as :meth:`write_row` for each, with less overhead."""
        for cells in rows:
            self.write_row(cells)

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

    def close(self) -> None:
        if not self._text.closed:
            self._text.flush()
            self._text.detach()  # PrivateFile owns the binary handle and closes it
        self._file.commit()


class XlsxTableWriter(TableWriter):
    """One-sheet XLSX in openpyxl write-only mode; every cell a string cell."""

    def __init__(self, path: Path, header: Sequence[str], *, sheet_title: str = "Sheet1") -> None:
        super().__init__(path, header)
        from openpyxl import Workbook  # lazy: only XLSX outputs need it

        self._book = Workbook(write_only=True)
        self._sheet = self._book.create_sheet(title=_sheet_title(sheet_title))
        self._sheet.append([_xlsx_text(neutralise(h)) for h in header])

    def write_row(self, cells: Sequence[str]) -> None:
        # After neutralise() no value starts with "=", so openpyxl stores each as a string
        # (never a formula); control characters XML cannot hold become U+FFFD.
        row = self._fit(cells)
        if ILLEGAL_CHARACTERS_RE.search("\n".join(row)):  # "\n" is legal in XML, NUL is not
            row = [_xlsx_text(c) for c in row]
        self._sheet.append(row)
        self.rows_written += 1

    def close(self) -> None:
        if not self._file.fh.closed:
            self._book.save(self._file.fh)
        self._file.commit()


def open_table_writer(
    path: Path,
    header: Sequence[str],
    *,
    format: Format = "csv",
    encoding: str = "utf-8",
    delimiter: str = ",",
    sheet_title: str = "Sheet1",
) -> TableWriter:
    """Create a CSV or XLSX writer for ``path`` (see module docstring)."""
    if format == "xlsx":
        return XlsxTableWriter(path, header, sheet_title=sheet_title)
    return CsvTableWriter(path, header, encoding=encoding, delimiter=delimiter)


def _xlsx_text(value: str) -> str:
    return ILLEGAL_CHARACTERS_RE.sub("\ufffd", value)


def _sheet_title(title: str) -> str:
    # Excel forbids these in sheet names and allows at most 31 characters.
    cleaned = "".join("_" if ch in "[]:*?/\\" else ch for ch in title).strip("'") or "Sheet1"
    return cleaned[:31]


def write_csv(out: TextIO, lines: Iterable[Sequence[str]]) -> int:
    """Write CSV lines (header first) to an open text stream, every cell through
    :func:`~pipeline.reports.safety.neutralise`; returns the number of data lines.

    ``\r\n`` line ends like every CSV we write: with them the csv module also quotes a cell
    holding a lone ``\r``, which a reader would otherwise take for the end of the line.
    """
    writer = csv.writer(out, lineterminator="\r\n")
    n = -1
    for n, line in enumerate(lines):  # noqa: B007 - the count is the result
        writer.writerow([neutralise(cell) for cell in line])
    return n
