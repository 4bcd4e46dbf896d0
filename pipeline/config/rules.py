"""The API's documented rules for call-policy values, shared by config validation (fixed values)
and the transform (per-row values) so both reject exactly the same things.

Usage::

    normalize_gmt_zone("GMT+3")            # -> "+03:00"; ValueError when out of grammar/range
    parse_offset_datetime("2026-12-01T10:00:00+03:00")
    check_intervals([("10:00", "12:00"), ("13:00", "18:00")])   # ValueError on overlap
"""

from __future__ import annotations

import itertools
import re
import zoneinfo
from datetime import datetime
from typing import Literal

PayloadType = Literal["string", "int", "decimal", "date", "datetime", "bool"]
PhoneType = Literal[
    "mobile",
    "fixed_line",
    "fixed_line_or_mobile",
    "toll_free",
    "premium_rate",
    "shared_cost",
    "voip",
    "personal_number",
    "pager",
    "uan",
    "voicemail",
]
PolicyField = Literal[
    "gmtZone",
    "startDateTime",
    "finishDateTime",
    "allowedDays",
    "allowedTime",
    "maxAttempts",
    "retryIntervalInMinutes",
    "dialerPriority",
]
Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEKDAYS: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# Documented bounds of the integer policy fields (calls-api.md §5).
POLICY_INT_BOUNDS: dict[str, tuple[int, int]] = {
    "maxAttempts": (1, 50),
    "retryIntervalInMinutes": (1, 2880),
    "dialerPriority": (1, 5),
}

_HHMM = re.compile(r"([01]\d|2[0-3]):([0-5]\d)")
_OFFSET = re.compile(r"([+-])(\d\d?)(?:(:?)(\d\d)(?:\3(\d\d))?)?")
_IANA = re.compile(r"[A-Za-z][A-Za-z0-9_+\-]*(?:/[A-Za-z0-9_+\-]+)+|UTC|GMT|UCT")


def normalize_gmt_zone(text: str) -> str:
    """Check a ``gmtZone`` value and return it in canonical form.

    Accepts ``Z``, ``±h``, ``±hh``, ``±hhmm``, ``±hh:mm``, ``±hhmmss``, ``±hh:mm:ss``, the same
    after ``UTC``/``GMT``/``UT``, and IANA ids (``Europe/Moscow``) known to ``zoneinfo``.
    Offsets come back as ``±hh:mm`` (``±hh:mm:ss`` when seconds are set), ``Z`` as ``+00:00``;
    IANA ids as written. Raises ``ValueError`` saying what is wrong::

        >>> normalize_gmt_zone("GMT+3"), normalize_gmt_zone("-0530")
        ('+03:00', '-05:30')
    """
    value = text.strip()
    if value == "Z":
        return "+00:00"
    body = value
    for prefix in ("UTC", "GMT", "UT"):
        if value.startswith(prefix) and value[len(prefix) : len(prefix) + 1] in ("+", "-"):
            body = value[len(prefix) :]
            break
    match = _OFFSET.fullmatch(body)
    if match:
        sign, hours, _, minutes, seconds = match.groups()
        if len(hours) == 1 and minutes:
            raise ValueError(f"{text!r}: a one-digit hour takes no minutes; write e.g. +03:30")
        h, m, s = int(hours), int(minutes or 0), int(seconds or 0)
        if m > 59 or s > 59 or h * 3600 + m * 60 + s > 18 * 3600:
            raise ValueError(f"{text!r}: offset out of range; allowed -18:00 ... +18:00")
        return f"{sign}{h:02d}:{m:02d}" + (f":{s:02d}" if s else "")
    if _IANA.fullmatch(value):
        try:
            zoneinfo.ZoneInfo(value)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            pass
        else:
            return value
    raise ValueError(
        f"{text!r} is not a time zone; use Z, an offset like +03:00 (optionally after "
        f"UTC/GMT/UT) or an IANA id like Europe/Moscow"
    )


def parse_offset_datetime(text: str) -> datetime:
    """Parse an ISO-8601 date-time that carries an offset (``2025-01-31T10:00:00+03:00``, ``Z``).

    A date-time without an offset is refused: the API's reading of a local time is
    undocumented, and guessing the zone could call someone at night.
    """
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(
            f"{text!r} is not an ISO-8601 date-time; write e.g. 2025-01-31T10:00:00+03:00"
        ) from None
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{text!r} has no UTC offset; append one, e.g. +03:00 or Z")
    return value


def check_intervals(intervals: list[tuple[str, str]]) -> None:
    """Check ``HH:MM`` call windows: each from < to, none overlapping or touching.

    Touching windows (10:00-12:00 and 12:00-14:00) are refused too: whether the server counts a
    shared end as an overlap is undocumented, and one window 10:00-14:00 says the same.
    """
    if not intervals:
        raise ValueError("needs at least one interval")
    spans = []
    for start, end in intervals:
        for part in (start, end):
            if not _HHMM.fullmatch(part):
                raise ValueError(f"{part!r} is not a 24-hour time HH:MM such as 09:30")
        if start >= end:
            raise ValueError(f"{start}-{end}: the start must be before the end (same day)")
        spans.append((start, end))
    spans.sort()
    for (_, prev_end), (start, end) in itertools.pairwise(spans):
        if start <= prev_end:
            raise ValueError(f"{start}-{end} overlaps or touches the window ending {prev_end}")
