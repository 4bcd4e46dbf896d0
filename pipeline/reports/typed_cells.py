"""Cell text to typed values, for the formats that have types (XLSX, JSON).

The writers are fed text (what CSV writes); a column's :data:`~pipeline.reports.formats.CellKind`
says what the text should be. A cell that does not parse as its kind stays the text it is,
so typing never loses anything.

* ``integer``: ``-12`` → 12; at most 15 digits (Excel keeps 15 significant digits, so a
  longer "number" — an id, a phone — stays text);
* ``decimal``: ``1234.50`` → 1234.5 in XLSX (a number with two or more decimals shown); JSON
  keeps the text, as the ``addPhones`` payload does: money must not change by rounding;
* ``date``: ``2024-12-31``; ``datetime``: ISO-8601, an offset kept in JSON and dropped in
  XLSX (Excel has no zones: the wall-clock time is shown, in the zone the text was in).

Usage::

    xlsx_value("integer", "0042")   # 42
    xlsx_value("integer", "79160000001234")  # "79160000001234" (too long: text)
    json_value("integer", "7")      # 7
"""

from __future__ import annotations

import re
from datetime import date, datetime

from pipeline.reports.formats import CellKind

XlsxValue = str | int | float | date | datetime
JsonValue = str | int | None

_INTEGER = re.compile(r"-?[0-9]{1,15}")
_DECIMAL = re.compile(r"-?[0-9]{1,15}(?:\.[0-9]{1,15})?")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_DATETIME = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}.*")
_EXCEL_FIRST_YEAR = 1900  # Excel's calendar starts here; earlier dates stay text


def xlsx_value(kind: CellKind, text: str) -> XlsxValue:
    """The value to write for ``text`` in a column of ``kind`` (text when it does not fit)."""
    try:
        if kind == "integer" and _INTEGER.fullmatch(text):
            return int(text)
        if kind == "decimal" and _DECIMAL.fullmatch(text) and _digits(text) <= 15:
            return float(text)
        if kind == "date" and _DATE.fullmatch(text):
            day = date.fromisoformat(text)
            return day if day.year >= _EXCEL_FIRST_YEAR else text
        if kind == "datetime" and _DATETIME.fullmatch(text):
            moment = datetime.fromisoformat(text)
            if moment.year >= _EXCEL_FIRST_YEAR:
                return moment.replace(tzinfo=None)  # the wall clock of the text's own zone
    except ValueError:
        pass  # "2024-02-30": not a calendar date, written as the text it is
    return text


def json_value(kind: CellKind, text: str) -> JsonValue:
    """The JSON value of ``text`` in a column of ``kind``: integers as numbers, an empty
    cell as null, everything else the text (dates stay ISO-8601 strings)."""
    if not text:
        return None
    if kind == "integer" and _INTEGER.fullmatch(text):
        return int(text)
    return text


def _digits(text: str) -> int:
    return sum(ch.isdigit() for ch in text.lstrip("-0").replace(".", ""))
