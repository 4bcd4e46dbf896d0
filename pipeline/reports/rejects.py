"""The rejects file: every rejected or duplicate row, with its original cells and why.

Columns: the input's header, then ``row``, ``reason`` (stable code), ``column``, ``message``,
``duplicate_of``. The output path's suffix names the format
(:func:`~pipeline.reports.formats.choose_format`): ``rejects.csv`` for a CSV input keeps the
input's delimiter (``;`` stays ``;``; or ``reports.delimiter``) and is UTF-8 with BOM, so it
opens in Excel and reads back as input; ``rejects.xlsx`` is a workbook whose input cells are
verbatim string cells. If the input already has a column named like one of ours (say
``reason``), ours get a ``rejected_`` prefix so the file can be read back.

Usage::

    with RejectsWriter(Path("rejects.csv"), table.info, delimiter="auto") as rejects:
        rejects.add_rejection(cells, Rejection(row=7, column="phone", code="phone_invalid",
                                               message="..."))
        rejects.add_duplicate(cells, Duplicate(row=9, duplicate_of=3))
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from pipeline.records import Duplicate, Rejection, SourceInfo, header_key
from pipeline.reports.files import CommitOnExit
from pipeline.reports.formats import AUTO, CellKind, choose_format
from pipeline.reports.tables import Format, TableWriter, open_output

REASON_COLUMNS = ("row", "reason", "column", "message", "duplicate_of")
INPUT_KIND: tuple[CellKind] = ("text",)
REASON_KINDS: tuple[CellKind, ...] = ("integer", "text", "text", "text", "integer")
DUPLICATE_CODE = "duplicate"


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

    def __init__(self, path: Path, source: SourceInfo, *, delimiter: str = AUTO) -> None:
        self.path = path
        fmt = choose_format(path, delimiter=delimiter, source=source)
        self.format: Format = fmt.kind
        self.encoding, self.delimiter = fmt.encoding, fmt.delimiter
        header = list(source.header)
        self._width = len(header)
        self._out: TableWriter = open_output(
            path,
            header + reason_columns(header),
            fmt,
            kinds=[*INPUT_KIND * len(header), *REASON_KINDS],  # the input's cells verbatim
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
