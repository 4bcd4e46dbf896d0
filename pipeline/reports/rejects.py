"""The rejects file: every rejected or duplicate row, in the input's own format.

Columns: the input's header, then ``row``, ``reason`` (stable code), ``column``, ``message``,
``duplicate_of``. A CSV input gets a CSV back with its encoding and delimiter, so it opens the
way the original did; an XLSX input gets an XLSX. The output path's extension wins when it says
otherwise (``.csv``/``.tsv``/``.txt`` → CSV, ``.xlsx`` → XLSX): a CSV for an XLSX input is
UTF-8 with BOM and ``,`` (tab for ``.tsv``). If the input already has a column named like one
of ours (say ``reason``), ours get a ``rejected_`` prefix so the file can be read back.

Usage::

    with RejectsWriter(Path("rejects.csv"), table.info) as rejects:
        rejects.add_rejection(cells, Rejection(row=7, column="phone", code="phone_invalid",
                                               message="..."))
        rejects.add_duplicate(cells, Duplicate(row=9, duplicate_of=3))
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from pipeline.records import Duplicate, Rejection, SourceInfo, header_key
from pipeline.reports.files import CommitOnExit
from pipeline.reports.tables import Format, TableWriter, open_table_writer

REASON_COLUMNS = ("row", "reason", "column", "message", "duplicate_of")
DUPLICATE_CODE = "duplicate"
CSV_SUFFIXES = (".csv", ".tsv", ".txt")


def output_format(path: Path, source: SourceInfo) -> Format:
    """CSV or XLSX for a rejects file at ``path`` reporting on ``source``."""
    suffix = path.suffix.lower()
    if suffix in CSV_SUFFIXES:
        return "csv"
    if suffix in (".xlsx", ".xlsm"):
        return "xlsx"
    return "xlsx" if source.format == "xlsx" else "csv"


def reason_columns(header: Sequence[str]) -> list[str]:
    """Our column names, prefixed when the input already uses one of them."""
    taken = {header_key(h) for h in header}
    if not taken.intersection(REASON_COLUMNS):
        return list(REASON_COLUMNS)
    prefix = "rejected_"
    while taken.intersection(header_key(prefix + c) for c in REASON_COLUMNS):
        prefix = "_" + prefix
    return [prefix + c for c in REASON_COLUMNS]


class RejectsWriter(CommitOnExit):
    """Streams rejected and duplicate rows to ``path`` (format rules in the module docstring)."""

    def __init__(self, path: Path, source: SourceInfo) -> None:
        self.path = path
        self.format: Format = output_format(path, source)
        header = list(source.header)
        self._width = len(header)
        if self.format == "csv" and source.format == "csv":
            encoding, delimiter = source.encoding or "utf-8", source.delimiter or ","
        else:
            encoding = "utf-8-sig"  # Excel opens BOM-marked UTF-8 correctly
            delimiter = "\t" if path.suffix.lower() == ".tsv" else ","
        self.encoding, self.delimiter = encoding, delimiter
        self._out: TableWriter = open_table_writer(
            path,
            header + reason_columns(header),
            format=self.format,
            encoding=encoding,
            delimiter=delimiter,
            sheet_title=source.sheet or "rejects",
        )

    @property
    def rows_written(self) -> int:
        return self._out.rows_written

    def add_rejection(self, cells: Sequence[str], rejection: Rejection) -> None:
        """One line for a rejected row: its original cells and why."""
        self._write(cells, rejection.row, rejection.code, rejection.column or "", rejection.message)

    def add_duplicate(self, cells: Sequence[str], duplicate: Duplicate, message: str = "") -> None:
        """One line for a row that repeats row ``duplicate.duplicate_of``."""
        message = message or (
            f"same phone and payload as row {duplicate.duplicate_of}; it is called once"
        )
        self._write(
            cells, duplicate.row, DUPLICATE_CODE, "", message, duplicate_of=duplicate.duplicate_of
        )

    def _write(
        self,
        cells: Sequence[str],
        row: int,
        code: str,
        column: str,
        message: str,
        *,
        duplicate_of: int | None = None,
    ) -> None:
        original = list(cells[: self._width])
        original.extend([""] * (self._width - len(original)))
        of = "" if duplicate_of is None else str(duplicate_of)
        self._out.write_row([*original, str(row), code, column, message, of])

    def close(self) -> None:
        """Finish the file (it appears at ``path`` only now)."""
        self._out.close()

    def abort(self) -> None:
        """Discard the partial file."""
        self._out.abort()
