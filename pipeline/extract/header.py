"""Which record of a file is its header: the first non-blank one, unless told or found.

Report-style exports (1C: "Выгрузка контрагентов от 01.12.2026", a blank line, then the
header) put title lines above the header. In order:

- ``input.header_row: N`` — the header is line (CSV) or sheet row (workbooks) ``N``;
- ``input.skip_rows: N`` — the first ``N`` lines/rows are skipped, then the first non-blank
  record is the header;
- otherwise, when the mapped column names are known (``ReadOptions.header_names``), the
  first of the first :data:`SEARCH_ROWS` non-blank records that holds one name of every
  mapped column is the header (failing that, the first holding a phone column name); the
  records above it are skipped and :attr:`Header.note` says so (the CLI prints it);
- else the first non-blank record.

Records between the header and the first data record stay rows (blank ones are numbered
too), so row numbers mean the same as before: the n-th record after the header.

Usage::

    header = pick_header(numbered_records, options, what="line")
    header.cells, header.number, header.rest, header.note
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from pipeline.errors import InputFileError
from pipeline.extract.options import ReadOptions
from pipeline.records import header_key

SEARCH_ROWS = 20


@dataclass(slots=True)
class Header:
    """The chosen header record, its line/row number and the records read after it."""

    cells: list[str]
    number: int
    rest: list[list[str]] = field(default_factory=list)
    note: str | None = None


def pick_header(
    records: Iterator[tuple[int, list[str]]], options: ReadOptions, *, what: str, name: str
) -> Header | None:
    """The header among ``records`` ((number, cells) pairs); None when there is no record
    to be one (an empty file or sheet: the reader says so in its own words)."""
    if options.header_row is not None:
        for number, cells in records:
            if number == options.header_row:
                if not any(c.strip() for c in cells):
                    raise InputFileError(
                        f"{name}: {what} {number} (input.header_row) is blank. Set "
                        f"input.header_row to the {what} that holds the column names."
                    )
                return Header(cells, number)
        raise InputFileError(
            f"{name}: input.header_row = {options.header_row}, but the file ends before that "
            f"{what}. Set it to the {what} that holds the column names."
        )
    groups = options.header_names
    seen: list[tuple[int, list[str]]] = []  # records after skip_rows, blank ones included
    filled = 0
    for number, cells in records:
        if number <= options.skip_rows:
            continue
        seen.append((number, cells))
        if any(c.strip() for c in cells):
            filled += 1
            if not groups or (filled == 1 and _holds(cells, groups) == len(groups)):
                return Header(cells, number, _after(seen, number))  # the usual case: at once
            if filled >= SEARCH_ROWS:
                break
    candidates = [(n, c) for n, c in seen if any(x.strip() for x in c)]
    if not candidates:
        return None
    first = candidates[0]
    best = next((nc for nc in candidates if _holds(nc[1], groups) == len(groups)), None)
    if best is None:  # not all mapped columns anywhere: the phone column decides
        best = next((nc for nc in candidates if _holds(nc[1], groups[:1])), first)
    number, cells = best
    note = None
    if best is not first:
        skipped = len([n for n, c in candidates if n < number])
        title = " ".join(first[1]).strip()[:60]
        note = (
            f"header found on {what} {number} (it holds the mapped columns); {skipped} "
            f"non-blank {what}(s) above it skipped, the first: {title!r}. Set input.header_row "
            f"to choose another."
        )
    return Header(cells, number, _after(seen, number), note)


def _holds(cells: list[str], groups: tuple[frozenset[str], ...]) -> int:
    """How many of ``groups`` (alternative header keys of one column) ``cells`` name."""
    keys = {header_key(cell) for cell in cells}
    return sum(1 for group in groups if keys & group)


def _after(seen: list[tuple[int, list[str]]], number: int) -> list[list[str]]:
    return [cells for n, cells in seen if n > number]
