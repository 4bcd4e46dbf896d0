"""What every reader shares: the Table interface, header checks and chunk assembly.

A reader turns a file into its header plus batches of raw records (lists of text cells);
:func:`assemble` turns those batches into :class:`~pipeline.records.RowChunk` objects with the
rules that must be the same for CSV and XLSX:

- row numbers count every record after the header, blank ones included;
- a short record is padded with ``""``; cells beyond the header are cut off, and when any of
  them is non-empty the full tail is kept in ``RowChunk.extra[row]`` so the transform can reject
  the row (a shifted row must never be called with a wrong column as its phone);
- blank records at the very end of the file are dropped (editors and Excel's "used range"
  leave them behind; they are not records anyone wrote). Blank records in the middle stay.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator
from types import TracebackType

from pipeline.errors import InputFileError
from pipeline.records import RowChunk, SourceInfo, header_key


class Table(ABC):
    """An open input file. Use as a context manager; iterate :meth:`chunks` once."""

    info: SourceInfo
    engine: str  # what parsed the file: "csv", "calamine" or "openpyxl"
    # Decisions worth telling the operator ("header found on row 3 ...", "read as CSV from
    # gzip"): the library returns them here, the CLI prints them on stderr.
    notes: list[str]
    _started = False

    @abstractmethod
    def chunks(self) -> Iterator[RowChunk]:
        """Yield the data records in order, in chunks of about ``chunk_size`` rows."""

    def _start(self) -> None:
        # The readers stream from one file position; a second pass would restart the row
        # numbers mid-file, so it is refused rather than silently wrong.
        if self._started:
            raise RuntimeError("chunks() can be iterated once per opened table; open it again")
        self._started = True

    @abstractmethod
    def close(self) -> None:
        """Release the file handle (idempotent)."""

    def __enter__(self) -> Table:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def column_name(index: int) -> str:
    """Spreadsheet letters for a 0-based column index (0 → A, 27 → AB)."""
    letters = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def check_header(path: str, header: list[str], where: str) -> None:
    """Refuse a header that is empty or names a column twice (matching is ambiguous)."""
    if not any(cell.strip() for cell in header):
        raise InputFileError(
            f"{path}: {where} has no column names. The first non-empty row must be the header "
            f"(phone, name, ...); add one or point input.sheet at the right sheet."
        )
    seen: dict[str, int] = {}
    for index, cell in enumerate(header):
        key = header_key(cell)
        if not key:
            continue  # an unnamed column can hold data but no config can map it
        if key in seen:
            first = seen[key]
            raise InputFileError(
                f"{path}: {where}: column {column_name(index)} ({cell!r}) has the same name as "
                f"column {column_name(first)} ({header[first]!r}) once case and spaces are "
                f"ignored, so a mapping could not tell them apart. Rename one of them."
            )
        seen[key] = index


def assemble(batches: Iterable[list[list[str]]], width: int) -> Iterator[RowChunk]:
    """Turn batches of raw records into RowChunks (rules in the module docstring)."""
    next_row = 1
    held_blank = 0  # blank records not yet known to be followed by a non-blank one
    for rows in batches:
        extra: dict[int, list[str]] = {}
        first = next_row + held_blank  # row number of rows[0]
        if set(map(len, rows)) != {width}:  # C-speed check; the fix-up loop is the rare path
            for index, row in enumerate(rows):
                if len(row) < width:
                    rows[index] = row + [""] * (width - len(row))
                elif len(row) > width:
                    tail = row[width:]
                    if any(tail):
                        extra[first + index] = tail
                    rows[index] = row[:width]
        keep = len(rows)
        while keep and not any(rows[keep - 1]) and (first + keep - 1) not in extra:
            keep -= 1
        trailing = len(rows) - keep
        if not keep:
            held_blank += trailing  # the whole batch is blank: wait for what follows
            continue
        del rows[keep:]
        if held_blank:
            rows[:0] = [[""] * width for _ in range(held_blank)]
        yield RowChunk(list(range(next_row, next_row + len(rows))), rows, extra)
        next_row += len(rows)
        held_blank = trailing
    # Whatever is still held is the file's trailing blank records: not records, dropped.
