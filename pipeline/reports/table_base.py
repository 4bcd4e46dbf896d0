"""The interface every table writer has (CSV, XLSX, JSON): rows of text in, a file out.

A writer is a context manager that commits the file when the block ends normally and leaves
nothing behind when it raises (:class:`~pipeline.reports.files.CommitOnExit`); the file is
0600 from its first byte (:class:`~pipeline.reports.files.PrivateFile`).

Usage::

    with open_output(path, header, fmt, kinds=kinds) as out:   # pipeline.reports.tables
        out.write_row(["1", "79160000001"])
        out.rows_written
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Sequence
from pathlib import Path

from pipeline.reports.files import CommitOnExit, PrivateFile
from pipeline.reports.formats import CellKind


class TableWriter(CommitOnExit, ABC):
    """A table being written; a context manager that commits on success, aborts on error."""

    def __init__(
        self, path: Path, header: Sequence[str], kinds: Sequence[CellKind] | None = None
    ) -> None:
        self.path = path
        self.header = list(header)
        self.width = len(header)
        self.kinds: list[CellKind] = list(kinds or [])[: self.width]
        self.kinds += ["text"] * (self.width - len(self.kinds))
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

    def _pad(self, cells: Sequence[str]) -> list[str]:
        row = list(cells[: self.width])
        if len(row) < self.width:
            row.extend([""] * (self.width - len(row)))
        return row
