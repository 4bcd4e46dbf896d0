"""Spreadsheet cell values as text, the same for python-calamine and openpyxl.

Rules (documented in README under "Reading files"):

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

    cell_text(79161234567.0)  # '79161234567'
"""

from __future__ import annotations

import datetime as dt
import math


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
