"""Rows whose phone is on a do-not-call list, taken out of a chunk before the rest of it is
classified (``validate``; upload checks its lists in the ledger while planning).

A listed row's verdict needs nothing but its phone: ``suppressed`` comes right after the shape
check (cells beyond the header) and before any payload or policy field. So the listed rows are
rejected here, in bulk, and the other rows go on as one shorter chunk: the column-wise fast
lane stays unbroken. Sending them down the row-by-row path instead cut the fast lane into a
short run per listed row and cost ~24 % of validate's time when 1 row in 10 was listed.

Usage (inside :class:`~pipeline.transform.assembly.RowTransformer`)::

    listed = listed_rows(phones, numbers, extra, suppressed)      # indexes into the chunk
    if listed:
        rest = Unlisted.of(listed, numbers, phones, phone_cols, column, cells_of)
        rejected = [suppressed_rejection(numbers[i], header[col_of(i)]) for i in listed]
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from heapq import merge
from itertools import compress
from operator import attrgetter
from typing import Any

from pipeline.records import Rejection
from pipeline.transform import codes

SUPPRESSED_MESSAGE = "the phone is on the do-not-call list (suppress.files or the ledger's list)"

__all__ = ["SUPPRESSED_MESSAGE", "Unlisted", "listed_rows", "merged", "suppressed_rejection"]


def listed_rows(
    phones: Sequence[Any], numbers: Sequence[int], extra: Collection[int], listed: Collection[str]
) -> list[int]:
    """Indexes of the rows whose phone (a valid one) is in ``listed`` and whose shape is
    sound: a row with cells beyond the header is rejected for that first, as the row path
    does, so it stays in the chunk."""
    # one set lookup per row at C speed; a PhoneProblem is never equal to a listed str
    hits = compress(range(len(phones)), map(listed.__contains__, phones))
    if extra:
        return [i for i in hits if numbers[i] not in extra]
    return list(hits)


def suppressed_rejection(row: int, column: str) -> Rejection:
    """The rejection of a listed row; ``column``: the header its phone came from."""
    return Rejection(row, column, codes.SUPPRESSED, SUPPRESSED_MESSAGE)


def merged(first: list[Rejection], second: list[Rejection]) -> list[Rejection]:
    """Two lists of rejections, each in row order, as one in row order."""
    if not first or not second:
        return first or second
    return list(merge(first, second, key=attrgetter("row")))


@dataclass(frozen=True, slots=True)
class Unlisted:
    """The chunk without its listed rows, in the shapes the classifier takes: row numbers,
    phones, fallback columns by (new) index, ``column(c)`` and ``cells_of(i)``."""

    numbers: list[int]
    phones: list[Any]
    phone_cols: dict[int, int]
    column: Callable[[int], Sequence[str]]
    cells_of: Callable[[int], Sequence[str]]

    @classmethod
    def of(  # noqa: PLR0917 - the chunk's parts, as the classifier holds them
        cls,
        listed: list[int],
        numbers: Sequence[int],
        phones: list[Any],
        phone_cols: dict[int, int],
        column: Callable[[int], Sequence[str]],
        cells_of: Callable[[int], Sequence[str]],
    ) -> Unlisted:
        """The rows of the chunk not in ``listed`` (ascending indexes), in their order."""
        keep = [True] * len(phones)
        for i in listed:
            keep[i] = False
        # position in the shorter chunk → position in the chunk (the row path needs cells)
        where = list(compress(range(len(phones)), keep))
        new_of = {old: new for new, old in enumerate(where)} if phone_cols else {}
        return cls(
            list(compress(numbers, keep)),
            list(compress(phones, keep)),
            {new_of[i]: c for i, c in phone_cols.items() if i in new_of},
            lambda c: list(compress(column(c), keep)),
            lambda i: cells_of(where[i]),
        )
