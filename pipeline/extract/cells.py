"""Spreadsheet cell values as text, the same for python-calamine and openpyxl.

Rules (documented in docs/configuration.md, "Reading files"):

- empty cell → ``""``; text as is;
- integral numbers → exact integer digits: ``79161234567.0`` → ``"79161234567"``, never
  ``"7.9161234567e10"`` (a float's integer value is exact, even past 15 digits, so nothing is
  invented; Excel itself keeps only ~15 significant digits, which the phone rules judge);
- other numbers → Python's shortest round-trip text (``repr``): ``1500.5``, ``0.1``;
- booleans → ``"TRUE"`` / ``"FALSE"``, as Excel shows them;
- dates → ``YYYY-MM-DD``; date-times → ``YYYY-MM-DDTHH:MM:SS`` (ISO-8601), and a date-time at
  exactly midnight → ``YYYY-MM-DD`` because calamine reports date-formatted cells as dates while
  openpyxl reports them as midnight date-times; times → ``HH:MM:SS``.

Usage::

    cell_text(79161234567.0)        # '79161234567'
    row_text(["a", 1.0, None])      # ['a', '1', '']
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Iterable
from typing import Any


def cell_text(value: object) -> str:  # noqa: PLR0911 - one flat dispatch on the type
    """Render one spreadsheet cell value as text (rules in the module docstring)."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):  # before int: bool is an int subclass
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isfinite(value) and value.is_integer():
            return str(int(value))
        return repr(value)
    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0, 0):
            return value.date().isoformat()
        return value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dt.time):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        # Duration-formatted cells; rare in CRM exports. Whole seconds as H:MM:SS.
        total = int(value.total_seconds())
        sign = "-" if total < 0 else ""
        hours, rest = divmod(abs(total), 3600)
        return f"{sign}{hours}:{rest // 60:02d}:{rest % 60:02d}"
    return str(value)


def _float_text(value: float) -> str:
    # is_integer() is False for inf and nan, so int() never sees them.
    return str(int(value)) if value.is_integer() else repr(value)


def _datetime_text(value: dt.datetime) -> str:
    return value.date().isoformat() if value.time() == dt.time(0, 0) else value.isoformat()


# The common types by exact class: one dict look-up per cell instead of an isinstance chain
# (the per-cell cost dominates XLSX reading after calamine's own parse).
_BY_CLASS: dict[type, Callable[[Any], str]] = {
    float: _float_text,
    int: str,
    bool: lambda v: "TRUE" if v else "FALSE",
    dt.date: dt.date.isoformat,
    dt.datetime: _datetime_text,
    type(None): lambda v: "",
}


def row_text(row: Iterable[object]) -> list[str]:
    """Render a row of cell values; same result as ``[cell_text(v) for v in row]``."""
    by_class = _BY_CLASS
    return [v if v.__class__ is str else by_class.get(v.__class__, cell_text)(v) for v in row]
