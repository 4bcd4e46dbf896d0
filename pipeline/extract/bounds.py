"""The size bounds on CSV records and cells, checked the same way by every reader of a file.

A record (one line, or the lines of a record whose quoted cell holds line breaks) may be at
most ``max_record_chars`` characters as written in the file, hold at most ``max_columns``
cells, and each cell at most ``max_cell_chars`` characters once unquoted. A record beyond a
bound stops the read naming its first line, the bound and the ``input.*`` setting; the first
such record in file order is the one reported, whichever bound it breaks.

:func:`check_lines` judges plain lines (no quoting: see ``blocks.plain_lines``), and
:func:`check_records` records parsed by the :mod:`csv` module. Both are cheap when nothing is
near a bound (one ``max(map(len, ...))``), which is almost always.

Usage::

    check_lines(["7916;Иванов"], first_line=2, delimiter=";", limits=Limits(), name="x.csv")
"""

from __future__ import annotations

from collections.abc import Callable
from itertools import chain

from pipeline.errors import InputFileError
from pipeline.extract.options import Limits


def record_too_long(name: str, line: int, limits: Limits) -> InputFileError:
    """A record longer than ``max_record_chars`` starting on ``line``."""
    return InputFileError(
        f"{name}: line {line}: a record longer than input.max_record_chars = "
        f"{limits.max_record_chars:,} characters allows. A line this long is rarely an export: "
        f"check the file there (a missing line break, or a quote opened and never closed); if "
        f"the record is real, raise input.max_record_chars."
    )


def too_many_columns(name: str, line: int, count: int, limits: Limits) -> InputFileError:
    """A record with more cells than ``max_columns``."""
    return InputFileError(
        f"{name}: line {line}: the record has {count:,} cells, more columns than "
        f"input.max_columns = {limits.max_columns:,} allows. Check the delimiter (input."
        f"delimiter) and the file; if the export really is this wide, raise input.max_columns."
    )


def cell_too_long(name: str, line: int, column: int, size: int, limits: Limits) -> InputFileError:
    """A cell longer than ``max_cell_chars``; ``column`` counts from 1."""
    return InputFileError(
        f"{name}: line {line}: cell {column} holds {size:,} characters, more than "
        f"input.max_cell_chars = {limits.max_cell_chars:,} allows (Excel's own limit is "
        f"32,767). Check the file around that line (often a quote opened and never closed); "
        f"if the cell is real, raise input.max_cell_chars."
    )


def check_lines(
    lines: list[str], first_line: int, delimiter: str, limits: Limits, name: str
) -> None:
    """Raise for the first of ``lines`` (plain records, ``lines[0]`` on ``first_line``) that
    breaks a bound."""
    if not lines:
        return
    longest = max(map(len, lines))
    # a line of n characters holds at most n cells of at most n characters
    if longest < limits.max_columns and longest <= min(
        limits.max_cell_chars, limits.max_record_chars
    ):
        return
    smallest = min(limits.max_columns - 1, limits.max_cell_chars, limits.max_record_chars)
    for index, line in enumerate(lines):
        if len(line) > smallest:
            _check_cells(line.split(delimiter), len(line), first_line + index, limits, name)


def check_records(
    records: list[list[str]],
    text_size: int,
    *,
    first_lines: Callable[[int], int],
    raw_size: Callable[[int], int],
    limits: Limits,
    name: str,
) -> None:
    """Raise for the first of ``records`` (parsed from ``text_size`` characters of text) that
    breaks a bound; ``first_lines(i)`` is record ``i``'s first line, ``raw_size(i)`` its size
    as written. Records are only measured one by one when the whole text could break one."""
    if not records:
        return
    wide = max(map(len, records)) > limits.max_columns
    long_cell = text_size > limits.max_cell_chars and (
        max(map(len, chain.from_iterable(records)), default=0) > limits.max_cell_chars
    )
    long_record = text_size > limits.max_record_chars
    if not (wide or long_cell or long_record):
        return
    for index, record in enumerate(records):
        size = raw_size(index) if long_record else 0
        _check_cells(record, size, first_lines(index), limits, name)


def _check_cells(cells: list[str], size: int, line: int, limits: Limits, name: str) -> None:
    if size > limits.max_record_chars:
        raise record_too_long(name, line, limits)
    if len(cells) > limits.max_columns:
        raise too_many_columns(name, line, len(cells), limits)
    if cells and max(map(len, cells)) > limits.max_cell_chars:
        column = next(i for i, cell in enumerate(cells) if len(cell) > limits.max_cell_chars)
        raise cell_too_long(name, line, column + 1, len(cells[column]), limits)
