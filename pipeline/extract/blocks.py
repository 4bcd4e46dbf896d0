"""CSV text that arrives in blocks (each ending at a line end) turned into records.

Most export blocks hold no double quote and no bare carriage return; for those, splitting on
line ends and delimiters gives exactly the records the :mod:`csv` module would (one record per
line, no quoting to undo) at a third of its cost, and a block whose every line has the
header's number of fields can even be cut straight into columns. Two quoted shapes are cut
into columns as cheaply: every cell quoted (``"a";"b"``, how Bitrix24 and many CRMs export:
:func:`quoted_columns`), and a few quoted lines among plain ones (a comment quoted for its
delimiter: :func:`mixed_columns`). Any other block goes through the :mod:`csv` module in strict
mode; a quoted field left open at the end of a block is carried into the next one, so
multi-line fields may span blocks. Every record is held to the size bounds of :mod:`.bounds` on
every path, so the verdict never depends on where blocks fall.

Usage::

    parser = CsvBlocks(path, ";", lines_before=1)
    rows = parser.records("7916...;Иванов\\n", final=False)       # [['7916...', 'Иванов']]
    parser.scan("7916...;Иванов\\n", final=False)                 # the same checks, no rows
    columns = plain_columns("a;b\\nc;d\\n", ";", 2)               # [['a', 'c'], ['b', 'd']]
"""

from __future__ import annotations

import csv
import io
from itertools import accumulate, repeat
from pathlib import Path

from pipeline.errors import InputFileError
from pipeline.extract.bounds import check_lines, check_records, record_too_long
from pipeline.extract.options import Limits


def quoting_error(name: str | Path, line: int, exc: csv.Error) -> InputFileError:
    """The error for broken CSV quoting on ``line`` (1-based physical line of the file)."""
    return InputFileError(
        f"{name}: line {line}: the CSV quoting is broken ({exc}). "
        f'Usually a double quote (") opened in a cell on or before this line is never '
        f"closed, or text follows a closing quote. Fix the quoting there and run again."
    )


def plain_lines(text: str) -> list[str] | None:
    """The lines of ``text`` when plain splitting parses it exactly as :mod:`csv` does.

    That holds without double quotes and with carriage returns only in ``\\r\\n`` pairs (a
    bare ``\\r`` ends a record for csv). ``None`` otherwise. (csv's own field limit is kept
    above ``max_record_chars``, which every line is held to, so it never decides.)
    """
    if '"' in text:
        return None
    return _split_lines(text)


def _split_lines(text: str) -> list[str] | None:
    """:func:`plain_lines` without the quote test (None: a bare CR)."""
    if "\r" in text:
        pairs = text.count("\r\n")
        if text.count("\r") != pairs:
            return None
        # a Windows export ends every line with CRLF: split on the pair, no copy without it
        if pairs == text.count("\n"):
            lines = text.split("\r\n")
        else:
            lines = text.replace("\r\n", "\n").split("\n")
    else:
        lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()  # the text ended with a line end
    return lines


def plain_columns(text: str, delimiter: str, width: int) -> list[list[str]] | None:
    """``text`` cut into ``width`` columns when it is plain (see :func:`plain_lines`) and every
    line has exactly ``width`` fields; ``None`` otherwise (the caller parses rows instead)."""
    lines = plain_lines(text)
    return None if lines is None else _cut(lines, delimiter, width)


def _cut(lines: list[str], delimiter: str, width: int) -> list[list[str]] | None:
    if not lines:
        return [[] for _ in range(width)]
    if set(map(str.count, lines, repeat(delimiter))) != {width - 1}:
        return None
    size = len(lines)
    # every line has width-1 delimiters, so the flat list is the cells row by row
    flat = delimiter.join(lines).split(delimiter) if width > 1 else lines
    return [flat[c : size * width : width] for c in range(width)]


def _short_lines(text: str, limits: Limits) -> list[str] | None:
    """The lines of ``text`` (see :func:`_split_lines`) when none is long enough to break a
    bound (a line of n characters holds at most n cells of at most n characters), else None."""
    lines = _split_lines(text)
    if not lines:
        return None
    longest = max(map(len, lines))
    if longest < limits.max_columns and longest <= min(
        limits.max_cell_chars, limits.max_record_chars
    ):
        return lines
    return None


def quoted_columns(text: str, delimiter: str, width: int, limits: Limits) -> list[list[str]] | None:
    """``text`` cut into ``width`` columns when every line is ``"cell";"cell";…`` with every
    cell quoted and no quote, line break or bare CR inside a cell (how many CRMs export every
    file), so that the :mod:`csv` module would read each line as exactly these cells; None
    otherwise, and when a line is long enough to need the exact bounds of the csv path.

    Why: the csv module costs a record object per row and a transposition; this costs one
    split, as for plain text.
    """
    lines = _short_lines(text, limits)
    return None if lines is None else _quoted_cut(lines, delimiter, width)


def _quoted_cut(lines: list[str], delimiter: str, width: int) -> list[list[str]] | None:
    """:func:`quoted_columns` of the lines of a text, already held to the bounds."""
    if not lines:
        return None
    if not all(map(str.startswith, lines, repeat('"'))) or not all(
        map(str.endswith, lines, repeat('"'))
    ):
        return None
    if min(map(len, lines)) < 2:  # a line of one quote is no quoted cell
        return None
    inner = [line[1:-1] for line in lines]
    separator = f'"{delimiter}"'
    if set(map(str.count, inner, repeat(separator))) != {width - 1}:
        return None
    joined = separator.join(inner)
    size = len(lines)
    # every quote left must belong to a separator: then no cell holds one
    if joined.count('"') != 2 * (size * width - 1):
        return None
    flat = joined.split(separator)
    return [flat[c : size * width : width] for c in range(width)]


def mixed_columns(text: str, delimiter: str, width: int, limits: Limits) -> list[list[str]] | None:
    """``text`` cut into ``width`` columns when at most half of its lines hold a quote, each
    of them one whole record of ``width`` cells for the :mod:`csv` module (a comment quoted
    for its delimiter, a name with quotes), and the other lines are plain; None otherwise, and
    when a line is long enough to need the exact bounds of the csv path.

    Why: one quoted cell used to send its whole block through the csv module. A line that
    starts a record and ends outside any quoted cell is read the same alone as within the
    block; the quoted lines are read by one csv reader (as many records as lines: no cell
    went on past its line end), the lines without quotes keep the plain split.
    """
    lines = _short_lines(text, limits)
    return None if lines is None else _mixed_cut(lines, delimiter, width)


def _mixed_cut(lines: list[str], delimiter: str, width: int) -> list[list[str]] | None:
    """:func:`mixed_columns` of the lines of a text, already held to the bounds (quoted
    lines are replaced in ``lines`` by a stand-in)."""
    if not lines:
        return None
    quoted = [i for i, line in enumerate(lines) if '"' in line]
    if 2 * len(quoted) > len(lines):
        return None  # mostly quoted lines: the csv module reads the block at least as fast
    try:
        records = list(csv.reader([lines[i] for i in quoted], delimiter=delimiter, strict=True))
    except csv.Error:
        return None  # a quoted cell left open at the end (or bad quoting)
    if len(records) != len(quoted) or any(len(record) != width for record in records):
        return None  # a quoted cell goes on past its line end, or a record of another width
    blank = delimiter * (width - 1)  # a stand-in of the right width, filled in below
    for i in quoted:
        lines[i] = blank
    columns = _cut(lines, delimiter, width)
    if columns is None:
        return None
    for c, column in enumerate(columns):
        for i, record in zip(quoted, records, strict=True):
            column[i] = record[c]
    return columns


class CsvBlocks:
    """Records of CSV text fed block by block; counts physical lines for error messages.

    ``name`` is how messages call the file; ``limits`` the bounds every record is held to.
    """

    def __init__(
        self,
        path: Path,
        delimiter: str,
        *,
        lines_before: int,
        limits: Limits | None = None,
        name: str | None = None,
    ) -> None:
        self.path = path
        self.name = name or str(path)
        self.delimiter = delimiter
        self.limits = limits or Limits()
        self.lines = lines_before  # physical lines of the file before the pending text
        self._carry = ""  # an unfinished quoted record from the previous block
        # csv refuses fields over its (process-wide) limit; records are bounded here instead
        if csv.field_size_limit() <= self.limits.max_record_chars:
            csv.field_size_limit(self.limits.max_record_chars + 1)

    def records(self, text: str, *, final: bool) -> list[list[str]]:
        """The complete records of ``text`` (which ends at a line end unless ``final``)."""
        if self._carry:
            text, self._carry = self._carry + text, ""
        lines = self._plain(text)
        if lines is not None:
            return list(map(str.split, lines, repeat(self.delimiter)))
        return self._parse(text, final=final)

    def scan(self, text: str, *, final: bool) -> None:
        """Everything :meth:`records` checks, without building the records of plain text."""
        if self._carry:
            text, self._carry = self._carry + text, ""
        if '"' in text or ("\r" in text and text.count("\r") != text.count("\r\n")):
            if self._plain(text) is None:  # a bare CR or quotes: as records() does
                self._parse(text, final=final)
            return
        # Plain text: only the longest line matters until one is near a bound. Lines keep a
        # CR of "\r\n" here (one character too many), so a line within one of a bound is
        # judged exactly, as records() would.
        lines = text.split("\n")
        if lines[-1] == "":
            lines.pop()
        limits = self.limits
        if lines and max(map(len, lines)) >= min(
            limits.max_columns - 1, limits.max_cell_chars, limits.max_record_chars
        ):
            exact = plain_lines(text)
            assert exact is not None
            check_lines(exact, self.lines + 1, self.delimiter, limits, self.name)
        self.lines += len(lines)

    def columns(self, text: str, width: int, *, final: bool) -> list[list[str]] | None:
        """:func:`plain_columns` of ``text`` when possible (then the lines are checked and
        counted), else ``None``: call :meth:`records` with the same text."""
        if self._carry:
            return None
        lines = plain_lines(text)
        if lines is None and '"' in text:
            # the lines are split (and held to the bounds) once for both quoted cuts
            short = _short_lines(text, self.limits)
            if short is None:
                return None
            columns = _quoted_cut(short, self.delimiter, width)
            if columns is None:
                columns = _mixed_cut(short, self.delimiter, width)
            if columns is not None:  # every line is one record, within the bounds
                self.lines += len(columns[0])
            return columns
        columns = None if lines is None else _cut(lines, self.delimiter, width)
        if columns is not None:
            assert lines is not None
            check_lines(lines, self.lines + 1, self.delimiter, self.limits, self.name)
            self.lines += len(lines)
        return columns

    def _plain(self, text: str) -> list[str] | None:
        """The checked lines of plain ``text`` (then counted), or None."""
        lines = plain_lines(text)
        if lines is not None:
            check_lines(lines, self.lines + 1, self.delimiter, self.limits, self.name)
            self.lines += len(lines)
        return lines

    def _parse(self, text: str, *, final: bool) -> list[list[str]]:
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=self.delimiter, strict=True)
        records: list[list[str]] = []
        ends: list[int] = []  # lines of the text up to the end of each record
        failure: csv.Error | None = None
        try:
            for record in reader:
                records.append(record)
                ends.append(reader.line_num)
        except csv.Error as exc:
            failure = exc
        done = ends[-1] if ends else 0  # lines of the records parsed so far
        lines: list[str] = []
        if failure is not None or len(text) > self.limits.max_record_chars:
            lines = io.StringIO(text, newline="").readlines()
        # No record or cell is longer than the text; when every record is one line, none is
        # longer than the longest line either, a bound that spares measuring every cell.
        bound = len(text)
        if done == len(records) and bound > self.limits.max_cell_chars:
            bound = min(bound, max(map(len, text.split("\n"))))
        self._check(records, ends, lines, bound)
        if failure is not None:
            # The record csv stopped in (it may go on in the next block): too long already,
            # whatever else is wrong with it
            upto = max(reader.line_num, done + 1)
            rest = sum(map(len, lines[done:upto])) - _line_end(lines[upto - 1])
            if rest > self.limits.max_record_chars:
                raise record_too_long(self.name, self.lines + done + 1, self.limits)
            if final or reader.line_num < len(lines):
                raise quoting_error(self.name, self.lines + reader.line_num, failure) from None
            # The text ended inside a quoted field: the record goes on in the next block.
            self._carry = "".join(lines[done:])
        self.lines += done
        return records

    def _check(
        self, records: list[list[str]], ends: list[int], lines: list[str], size: int
    ) -> None:
        """Hold parsed records to the bounds (``lines``: the text's lines, when it is longer
        than a record may be)."""
        starts = [0, *ends]
        sums = [0, *accumulate(map(len, lines))]

        def raw_size(index: int) -> int:
            begin, end = starts[index], ends[index]
            return sums[end] - sums[begin] - _line_end(lines[end - 1])

        check_records(
            records,
            size,
            first_lines=lambda index: self.lines + starts[index] + 1,
            raw_size=raw_size,
            limits=self.limits,
            name=self.name,
        )


def _line_end(line: str) -> int:
    """How many characters of ``line`` are its line end."""
    if line.endswith("\r\n"):
        return 2
    return 1 if line.endswith(("\n", "\r")) else 0
