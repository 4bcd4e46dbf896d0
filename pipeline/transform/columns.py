"""Column-at-a-time conversion of a chunk's cells, each distinct cell converted once.

A chunk is converted per column rather than per row: dates, amounts, time zones and flags
repeat down a column, so converting the distinct texts once and mapping the column through a
dict is far cheaper than a converter call per cell. The values are those of the converters in
:mod:`.fields`; an empty cell becomes :data:`EMPTY` and a bad one its :class:`FieldError`.

Usage::

    column = convert_column(CONVERTERS["date"], ["31.12.2024", " ", "2024-12-31", "x"])
    column.values      # ['2024-12-31', EMPTY, '2024-12-31', FieldError(...)]
    column.bad         # {1, 3}: the positions that are EMPTY or a FieldError
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Final

from pipeline.transform.fields import COLUMN_SHORTCUTS, NUL_IN_CELL, FieldError


class _Empty:
    """The marker of an empty (or all-space) cell."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "EMPTY"


EMPTY: Final = _Empty()


@dataclass(slots=True)
class Column:
    """One converted column: ``values[i]`` belongs to row ``i`` of the chunk."""

    values: list[Any]
    bad: set[int]  # positions whose value is EMPTY or a FieldError


def convert_column(
    convert: Callable[[str], Any], cells: Sequence[str], *, shared: bool = True
) -> Column:
    """Convert ``cells`` (raw texts) with ``convert`` (which takes stripped, non-empty text).

    ``shared=False`` converts every cell on its own, for converters returning mutable values
    (lists, dicts) that must not be one object shared by several rows.
    """
    if convert is str:
        # plain text: its stripped form is the value; nothing to look up
        values: list[Any] = [cell.strip() for cell in cells]
        bad = positions(values, "")
        for i in bad:
            values[i] = EMPTY
        if "\x00" in "".join(cells):  # one C-level test; finding the cells is the rare path
            for i, cell in enumerate(cells):
                if "\x00" in cell:
                    values[i] = NUL_IN_CELL
                    bad.add(i)
        return Column(values, bad)
    shortcut = COLUMN_SHORTCUTS.get(convert)
    if shortcut is not None:
        stripped = [cell.strip() for cell in cells]
        plain = shortcut(stripped)
        if plain is not None:
            bad = positions(stripped, "")
            for i in bad:
                plain[i] = EMPTY
            return Column(plain, bad)
    if not shared:
        values = [_convert_one(convert, cell) for cell in cells]
    else:
        distinct = {cell: _convert_one(convert, cell) for cell in dict.fromkeys(cells)}
        values = list(map(distinct.__getitem__, cells))
        wrong = [v for v in distinct.values() if v is EMPTY or type(v) is FieldError]
        if not wrong:
            return Column(values, set())
        if len(wrong) < 8:  # a few distinct bad values (an empty cell, a typo): found in C
            return Column(values, set().union(*(positions(values, v) for v in wrong)))
    bad = {i for i, value in enumerate(values) if value is EMPTY or type(value) is FieldError}
    return Column(values, bad)


def positions(values: list[Any], value: object) -> set[int]:
    """Where ``value`` is in ``values`` (``list.index`` does the search: few hits, long lists)."""
    found: set[int] = set()
    at = -1
    try:
        while True:
            at = values.index(value, at + 1)
            found.add(at)
    except ValueError:
        return found


def _convert_one(convert: Callable[[str], Any], cell: str) -> Any:
    text = cell.strip()
    if not text:
        return EMPTY
    try:
        return convert(text)
    except FieldError as exc:
        return exc
