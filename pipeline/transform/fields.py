"""Typing of payload cells and parsing of per-row call-policy cells.

Each converter takes the stripped, non-empty cell text and returns the JSON value, or raises
:class:`FieldError` with a reason code and a message. Accepted inputs (docs/configuration.md):

* ``int``: ``-12``, ``1 000`` (spaces as thousands separators) → JSON number;
* ``decimal``: ``1234.50``, ``1 234,50`` (one ``,`` or ``.`` is the decimal separator) → JSON
  *string* ``"1234.50"``: a JSON number becomes a float in the bot's JavaScript and money must
  not change by rounding; both separators at once (``1,234.50``) is ambiguous and refused;
* ``date``: ``31.12.2024``, ``2024-12-31`` (also with a midnight time, as Excel cells arrive)
  → ``2024-12-31``; slash dates (``01/02/2024``) read two ways and are refused;
* ``datetime``: ``2024-12-31T10:00[:00][+03:00]``, ``2024-12-31 10:00``, ``31.12.2024 10:00``
  → ISO-8601, with the offset only when the cell had one;
* ``bool``: true/false, yes/no, 1/0, да/нет → JSON true/false; ``string``: the text.

Usage::

    to_json("decimal", "1 234,50")   # '1234.50'
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Any

from pipeline.config import (
    POLICY_INT_BOUNDS,
    WEEKDAYS,
    check_intervals,
    normalize_gmt_zone,
    parse_offset_datetime,
)
from pipeline.transform import codes


class FieldError(ValueError):
    """A cell does not fit its field: ``code`` is the reason code for the rejection."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


_SPACES = str.maketrans("", "", " \u00a0\u202f\u2009'")
_INT = re.compile(r"[+-]?[0-9]+")
_DECIMAL = re.compile(r"[+-]?[0-9]+(?:[.,][0-9]+)?")
_PLAIN_DECIMAL = re.compile(r"-?[1-9][0-9]*(?:[.,][0-9]+)?")
_DMY = re.compile(r"(\d{2})\.(\d{2})\.(\d{4})(?:[ T](\d{1,2}):(\d{2})(?::(\d{2}))?)?")
_MIDNIGHT = re.compile(r"(\d{4}-\d{2}-\d{2})[ T]00:00(?::00(?:\.0+)?)?")
_SLASH = re.compile(r"\d{1,2}/\d{1,2}/\d{2,4}")
_TRUE = frozenset({"true", "yes", "y", "1", "да", "д", "истина"})
_FALSE = frozenset({"false", "no", "n", "0", "нет", "н", "ложь"})
_RANGE = re.compile(r"\s*(\d{1,2}:\d{2})\s*-\s*(\d{1,2}:\d{2})\s*")


def _invalid(message: str) -> FieldError:
    return FieldError(codes.PAYLOAD_INVALID, message)


# A NUL byte is never text: a damaged export, or binary data pasted into a cell. Sent on, it
# reaches the bot's script as a string terminator or breaks the receiving system.
NUL_IN_CELL = _invalid(
    "the cell holds a NUL character (\\x00), which is not text: the export is damaged or "
    "binary data was pasted into it; fix the cell"
)


def _to_int(text: str) -> int:
    compact = text.translate(_SPACES)
    if not _INT.fullmatch(compact):
        raise _invalid(f"{text!r} is not a whole number")
    return int(compact)


def _to_decimal(text: str) -> str:
    if _PLAIN_DECIMAL.fullmatch(text):
        # Without a leading zero, sign '+', spaces or exponent, str(Decimal(x)) is x itself
        # with '.' as separator: this skips Decimal for the common cell (most amounts differ,
        # so a cache would not help).
        return text.replace(",", ".")
    compact = text.translate(_SPACES)
    if any(ch.isalpha() and ch not in "eE" for ch in compact):  # "rub." holds the only "."
        raise _invalid(
            f"{text!r} holds text besides the amount; write the number alone (1234.50), the "
            f"currency in another column"
        )
    if "," in compact and "." in compact:
        raise FieldError(
            codes.PAYLOAD_AMBIGUOUS,
            f"{text!r} has both ',' and '.'; write the amount without thousands separators",
        )
    if not _DECIMAL.fullmatch(compact):
        raise _invalid(f"{text!r} is not a decimal amount such as 1234.50")
    try:
        return str(Decimal(compact.replace(",", ".")))
    except InvalidOperation:  # pragma: no cover - the regex admits only valid literals
        raise _invalid(f"{text!r} is not a decimal amount") from None


# A whole column of plain amounts (or empty cells), one per line: checked by one regex call.
# The quantifiers are possessive (the amount's parts cannot overlap, so nothing is ever given
# back): the same language, matched without keeping backtracking state (0.13 -> 0.08 s per
# million cells).
_PLAIN_DECIMAL_LINE = r"(?:-?[1-9][0-9]*+(?:[.,][0-9]++)?+)?+"
_PLAIN_DECIMAL_LINES = re.compile(rf"{_PLAIN_DECIMAL_LINE}(?:\n{_PLAIN_DECIMAL_LINE})*+")


def plain_decimal_column(texts: list[str]) -> list[str] | None:
    """The values of a column of stripped cells when each is empty or a plain amount (the
    case ``_to_decimal`` answers without Decimal), else ``None``. Empty cells stay ``""``.

    Amounts rarely repeat, so a per-value cache does not help; one regex over the joined
    column and one replace do the work of a converter call per cell.
    """
    joined = "\n".join(texts)
    if joined.count("\n") != len(texts) - 1 or not _PLAIN_DECIMAL_LINES.fullmatch(joined):
        return None  # a cell with a line break, or one that needs the full rules
    return joined.replace(",", ".").split("\n")


# Dates repeat across a file (a few hundred distinct values), so their parse is cached.
@lru_cache(maxsize=4096)
def _to_date(text: str) -> str:
    if _SLASH.fullmatch(text):
        raise FieldError(
            codes.PAYLOAD_AMBIGUOUS,
            f"{text!r} reads as day/month or month/day; write 31.12.2024 or 2024-12-31",
        )
    midnight = _MIDNIGHT.fullmatch(text)
    candidate = midnight.group(1) if midnight else text
    dmy = _DMY.fullmatch(candidate)
    try:
        if dmy and dmy.group(4) is None:
            return date(int(dmy.group(3)), int(dmy.group(2)), int(dmy.group(1))).isoformat()
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", candidate):
            return date.fromisoformat(candidate).isoformat()
    except ValueError:
        raise _invalid(f"{text!r} is not a calendar date") from None
    raise _invalid(f"{text!r} is not a date; write 31.12.2024 or 2024-12-31")


@lru_cache(maxsize=4096)
def _to_datetime(text: str) -> str:
    if _SLASH.match(text):
        raise FieldError(codes.PAYLOAD_AMBIGUOUS, f"{text!r}: slash dates read two ways")
    dmy = _DMY.fullmatch(text)
    try:
        if dmy and dmy.group(4) is not None:
            day, month, year, hour, minute, second = (int(g or 0) for g in dmy.groups())
            return datetime(year, month, day, hour, minute, second).isoformat()
        if re.match(r"\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}", text):
            return datetime.fromisoformat(text).isoformat()
    except ValueError:
        raise _invalid(f"{text!r} is not a valid date and time") from None
    raise _invalid(f"{text!r} is not a date-time; write 2024-12-31T10:00 or 31.12.2024 10:00")


def _to_bool(text: str) -> bool:
    folded = text.casefold()
    if folded in _TRUE:
        return True
    if folded in _FALSE:
        return False
    raise _invalid(f"{text!r} is not a yes/no value (true/false, yes/no, 1/0, да/нет)")


CONVERTERS: dict[str, Callable[[str], Any]] = {
    "string": str,
    "int": _to_int,
    "decimal": _to_decimal,
    "date": _to_date,
    "datetime": _to_datetime,
    "bool": _to_bool,
}


# Column-at-a-time shortcuts of some converters (see pipeline.transform.columns).
COLUMN_SHORTCUTS: dict[Callable[[str], Any], Callable[[list[str]], list[Any] | None]] = {
    _to_decimal: plain_decimal_column,
}


def to_json(kind: str, text: str) -> Any:
    """Convert a non-empty cell to the JSON value of payload type ``kind``."""
    return CONVERTERS[kind](text)


# ---- per-row call-policy cells --------------------------------------------------------------


def _policy_error(message: str) -> FieldError:
    return FieldError(codes.POLICY_INVALID, message)


def _policy_int(field: str) -> Callable[[str], int]:
    low, high = POLICY_INT_BOUNDS[field]

    def convert(text: str) -> int:
        if not _INT.fullmatch(text):
            raise _policy_error(f"{field} {text!r} is not a whole number")
        value = int(text)
        if not low <= value <= high:
            raise _policy_error(f"{field} {value} is outside {low}..{high}")
        return value

    return convert


# Moscow time and offsets from it, as Russian CRMs write them, in Cyrillic or Latin letters:
# MSK, MSK+4, msk -1 (the Cyrillic letters are escaped below).
_MSK = re.compile(r"(?:\u041c\u0421\u041a|MSK)\s*(?:([+-])\s*(\d{1,2}))?", re.IGNORECASE)


def _moscow_relative(text: str) -> str:
    """``MSK+4`` (either alphabet) → ``+07:00`` (Moscow is UTC+3 all year since 2014);
    other text unchanged."""
    match = _MSK.fullmatch(text.strip())
    if match is None:
        return text
    sign, hours = match.groups()
    offset = 3 + (int(hours) if sign == "+" else -int(hours) if sign else 0)
    return f"{'+' if offset >= 0 else '-'}{abs(offset):02d}:00"


def _policy_zone(text: str) -> str:
    """A gmtZone cell: the API's forms (see pipeline.config.rules) and ``MSK±N``."""
    try:
        return normalize_gmt_zone(_moscow_relative(text))
    except ValueError as exc:
        raise _policy_error(f"gmtZone: {exc}") from None


def _policy_datetime(field: str) -> Callable[[str], str]:
    def convert(text: str) -> str:
        try:
            return parse_offset_datetime(text).isoformat()
        except ValueError as exc:
            raise _policy_error(f"{field}: {exc}") from None

    return convert


def _policy_days(text: str) -> list[str]:
    """``mon,wed,fri`` (commas or spaces, any case) → ``["mon", "wed", "fri"]`` in week order."""
    days = [d for d in re.split(r"[\s,;]+", text.casefold()) if d]
    unknown = [d for d in days if d not in WEEKDAYS]
    if unknown or not days or len(set(days)) != len(days):
        raise _policy_error(
            f"allowedDays {text!r}: list distinct days from mon, tue, wed, thu, fri, sat, sun"
        )
    return sorted(days, key=WEEKDAYS.index)


def _policy_time(text: str) -> dict[str, list[dict[str, str]]]:
    """``10:00-13:00, 14:00-18:00`` → ``{"default": [{localTimeFrom, localTimeTo}, ...]}``."""
    windows = []
    for part in text.split(","):
        match = _RANGE.fullmatch(part)
        if match is None:
            raise _policy_error(
                f"allowedTime {text!r}: write windows like 10:00-13:00, 14:00-18:00"
            )
        start, end = (t.zfill(5) for t in match.groups())
        windows.append((start, end))
    try:
        check_intervals(windows)
    except ValueError as exc:
        raise _policy_error(f"allowedTime: {exc}") from None
    return {"default": [{"localTimeFrom": a, "localTimeTo": b} for a, b in windows]}


POLICY_CONVERTERS: dict[str, Callable[[str], Any]] = {
    "gmtZone": _policy_zone,
    "startDateTime": _policy_datetime("startDateTime"),
    "finishDateTime": _policy_datetime("finishDateTime"),
    "allowedDays": _policy_days,
    "allowedTime": _policy_time,
    "maxAttempts": _policy_int("maxAttempts"),
    "retryIntervalInMinutes": _policy_int("retryIntervalInMinutes"),
    "dialerPriority": _policy_int("dialerPriority"),
}
