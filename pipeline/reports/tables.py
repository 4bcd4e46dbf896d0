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
"""

from __future__ import annotations

import csv
import io
from abc import ABC, abstractmethod
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import Literal

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from pipeline.reports.files import PrivateFile
from pipeline.reports.safety import neutralise

Format = Literal["csv", "xlsx"]


class TableWriter(ABC):
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

    def _fit(self, cells: Sequence[str]) -> list[str]:
        row = [neutralise(c) for c in cells[: self.width]]
        if len(row) < self.width:
            row.extend([""] * (self.width - len(row)))
        return row

    def __enter__(self) -> TableWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()


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

    def close(self) -> None:
        if not self._text.closed:
            self._text.flush()
            self._text.detach()  # PrivateFile owns the binary handle and closes it
        self._file.commit()


class XlsxTableWriter(TableWriter):
    """One-sheet XLSX in openpyxl write-only mode; every cell a string cell."""

    def __init__(self, path: Path, header: Sequence[str], *, sheet_title: str = "Sheet1") -> None:
        super().__init__(path, header)
        self._book = Workbook(write_only=True)
        self._sheet = self._book.create_sheet(title=_sheet_title(sheet_title))
        self._sheet.append([_xlsx_text(neutralise(h)) for h in header])

    def write_row(self, cells: Sequence[str]) -> None:
        # After neutralise() no value starts with "=", so openpyxl stores each as a string
        # (never a formula); control characters XML cannot hold become U+FFFD.
        self._sheet.append([_xlsx_text(c) for c in self._fit(cells)])
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
