"""CSV text that arrives in blocks (each ending at a line end) turned into records.

Most export blocks hold no double quote and no bare carriage return; for those, splitting on
line ends and delimiters gives exactly the records the :mod:`csv` module would (one record per
line, no quoting to undo) at a third of its cost, and a block whose every line has the
header's number of fields can even be cut straight into columns. Any other block goes through
the :mod:`csv` module in strict mode; a quoted field left open at the end of a block is carried
into the next one, so multi-line fields may span blocks.

Usage::

    parser = CsvBlocks(path, ";", lines_before=1)
    rows = parser.records("7916...;Иванов\\n", final=False)       # [['7916...', 'Иванов']]
    columns = plain_columns("a;b\\nc;d\\n", ";", 2)               # [['a', 'c'], ['b', 'd']]
"""

from __future__ import annotations

import csv
import io
from itertools import repeat
from pathlib import Path

from pipeline.errors import InputFileError

BLOCK_CHARS = 1 << 18  # ~3-4k rows of a typical export per read: cheap to split, bounded


def quoting_error(path: Path, line: int, exc: csv.Error) -> InputFileError:
    """The error for broken CSV quoting on ``line`` (1-based physical line of the file)."""
    return InputFileError(
        f"{path}: line {line}: the CSV quoting is broken ({exc}). "
        f'Usually a double quote (") opened in a cell on or before this line is never '
        f"closed, or text follows a closing quote. Fix the quoting there and run again."
    )


def plain_lines(text: str) -> list[str] | None:
    """The lines of ``text`` when plain splitting parses it exactly as :mod:`csv` does.

    That holds without double quotes and with carriage returns only in ``\\r\\n`` pairs (a
    bare ``\\r`` ends a record for csv), and with no line longer than csv's field limit (csv
    would refuse such a field). ``None`` otherwise.
    """
    if '"' in text:
        return None
    if "\r" in text:
        if text.count("\r") != text.count("\r\n"):
            return None
        text = text.replace("\r\n", "\n")
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()  # the text ended with a line end
    limit = csv.field_size_limit()
    if len(text) > limit and max(map(len, lines), default=0) > limit:
        return None
    return lines


def plain_columns(text: str, delimiter: str, width: int) -> list[list[str]] | None:
    """``text`` cut into ``width`` columns when it is plain (see :func:`plain_lines`) and every
    line has exactly ``width`` fields; ``None`` otherwise (the caller parses rows instead)."""
    lines = plain_lines(text)
    if lines is None:
        return None
    if not lines:
        return [[] for _ in range(width)]
    if set(map(str.count, lines, repeat(delimiter))) != {width - 1}:
        return None
    size = len(lines)
    # every line has width-1 delimiters, so the flat list is the cells row by row
    flat = delimiter.join(lines).split(delimiter) if width > 1 else lines
    return [flat[c : size * width : width] for c in range(width)]


class CsvBlocks:
    """Records of CSV text fed block by block; counts physical lines for error messages."""

    def __init__(self, path: Path, delimiter: str, *, lines_before: int) -> None:
        self.path = path
        self.delimiter = delimiter
        self.lines = lines_before  # physical lines of the file before the pending text
        self._carry = ""  # an unfinished quoted record from the previous block

    def records(self, text: str, *, final: bool) -> list[list[str]]:
        """The complete records of ``text`` (which ends at a line end unless ``final``)."""
        if self._carry:
            text, self._carry = self._carry + text, ""
        lines = plain_lines(text)
        if lines is not None:
            self.lines += len(lines)
            return list(map(str.split, lines, repeat(self.delimiter)))
        return self._parse(text, final=final)

    def columns(self, text: str, width: int, *, final: bool) -> list[list[str]] | None:
        """:func:`plain_columns` of ``text`` when possible (then the lines are counted), else
        ``None``: call :meth:`records` with the same text."""
        if self._carry:
            return None
        columns = plain_columns(text, self.delimiter, width)
        if columns is not None:
            self.lines += len(columns[0])
        return columns

    def _parse(self, text: str, *, final: bool) -> list[list[str]]:
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=self.delimiter, strict=True)
        records: list[list[str]] = []
        done = 0  # lines of the records parsed so far
        try:
            for record in reader:
                records.append(record)
                done = reader.line_num
        except csv.Error as exc:
            lines = io.StringIO(text, newline="").readlines()
            if final or reader.line_num < len(lines):
                raise quoting_error(self.path, self.lines + reader.line_num, exc) from None
            # The text ended inside a quoted field: the record goes on in the next block.
            self._carry = "".join(lines[done:])
        self.lines += done
        return records
