"""Calling windows from a named preset, narrowed by the operator's own window, per row.

A preset gives each weekday's hours in the row's local time and the hours of a public
holiday. ``ru-230fz`` keeps law 230-FZ for collection calls (weekdays 08:00-22:00, Saturday,
Sunday and holidays 09:00-20:00); ``business`` calls Monday to Friday 09:00-18:00 and never on
a weekend or holiday. The result is the API's per-day form (``allowedDays`` + ``allowedTime``
keyed by day).

The operator's window (fixed policy or the row's columns) may narrow a preset, never widen it:
a window asking for a day or an hour the preset does not allow is refused
(``window_not_allowed``), not clipped. Holidays are the tool's narrowing: the API's form is
weekly, so a weekday on which a holiday of the row's country falls between the row's start
(or now) and its finish (or ``horizon_days`` later) gets the holiday hours for the whole job.

Usage::

    windows = WindowDecider(PRESETS["ru-230fz"], now=now)
    windows.decide("79161234567", {"allowedTime": {"default": [...]}})  # dict or (code, text)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Any, Final

import phonenumbers

from pipeline.config import WEEKDAYS
from pipeline.transform import codes

Span = tuple[str, str]  # ("08:00", "22:00"), local time; strings compare as times
Week = Mapping[str, tuple[Span, ...]]  # day -> spans; a closed day is absent


@dataclass(frozen=True, slots=True)
class Preset:
    """A named calling window: each open weekday's spans and the spans of a holiday."""

    name: str
    week: Week
    holiday: tuple[Span, ...]  # () = no calls on a holiday


_WORKDAYS = ("mon", "tue", "wed", "thu", "fri")
PRESETS: Final[dict[str, Preset]] = {
    "ru-230fz": Preset(
        "ru-230fz",
        {
            **dict.fromkeys(_WORKDAYS, (("08:00", "22:00"),)),
            "sat": (("09:00", "20:00"),),
            "sun": (("09:00", "20:00"),),
        },
        (("09:00", "20:00"),),
    ),
    "business": Preset("business", dict.fromkeys(_WORKDAYS, (("09:00", "18:00"),)), ()),
}

WindowProblem = tuple[str, str]  # (reason code, message)


def phone_region(phone: str) -> str | None:
    """The country of a number (digits with country code) whose holidays apply."""
    if phone[0] == "7":
        return "KZ" if phone[1:2] in ("6", "7") else "RU"
    for size in (1, 2, 3):
        region = phonenumbers.region_code_for_country_code(int(phone[:size] or 0))
        if region != "ZZ":
            return str(region)
    return None


@lru_cache(maxsize=4096)
def holiday_weekdays(region: str | None, first: date, last: date) -> frozenset[str]:
    """Weekdays on which a public holiday of ``region`` falls from ``first`` to ``last``;
    empty when the country's calendar is not known to the holidays package."""
    if region is None:
        return frozenset()
    import holidays  # ~20 ms of imports, paid only when a holiday rule is used

    try:
        calendar = holidays.country_holidays(region, years=range(first.year, last.year + 1))
    except NotImplementedError:
        return frozenset()
    return frozenset(WEEKDAYS[day.weekday()] for day in calendar if first <= day <= last)


def _within(span: Span, allowed: tuple[Span, ...]) -> bool:
    return any(a <= span[0] and span[1] <= b for a, b in allowed)


def _intersect(spans: tuple[Span, ...], allowed: tuple[Span, ...]) -> list[Span]:
    out = [(max(s, a), min(e, b)) for s, e in spans for a, b in allowed]
    return sorted((s, e) for s, e in out if s < e)


def operator_week(policy: Mapping[str, Any], preset: Preset) -> dict[str, tuple[Span, ...]]:
    """The operator's window per day (``allowedDays`` + ``allowedTime``, API form), days and
    hours it leaves unsaid taken from the preset."""
    days = policy.get("allowedDays") or [d for d in WEEKDAYS if d in preset.week]
    times = policy.get("allowedTime") or {}
    week: dict[str, tuple[Span, ...]] = {}
    for day in days:
        given = times.get(day, times.get("default"))
        if given is None:
            week[day] = preset.week.get(day, ())
        else:
            week[day] = tuple((w["localTimeFrom"], w["localTimeTo"]) for w in given)
    return week


def check_narrows(week: Mapping[str, tuple[Span, ...]], preset: Preset) -> str | None:
    """What of ``week`` the preset does not allow, or None when it only narrows it."""
    for day, spans in week.items():
        allowed = preset.week.get(day, ())
        if not allowed:
            return f"{preset.name} allows no calls on {day}"
        for span in spans:
            if not _within(span, allowed):
                shown = ", ".join(f"{a}-{b}" for a, b in allowed)
                return f"{day} {span[0]}-{span[1]} is outside {preset.name}'s {shown}"
    return None


class WindowDecider:
    """The per-day window of each row under ``preset`` (see the module doc)."""

    def __init__(
        self, preset: Preset, *, now: datetime, use_holidays: bool = True, horizon_days: int = 7
    ) -> None:
        self.preset = preset
        self.now = now
        self.use_holidays = use_holidays
        self.horizon = timedelta(days=horizon_days)
        self._cache: dict[tuple[str, frozenset[str]], dict[str, Any] | WindowProblem] = {}
        self._off: dict[tuple[str | None, Any, Any], frozenset[str]] = {}

    def _holidays(self, phone: str, policy: Mapping[str, Any]) -> frozenset[str]:
        if not self.use_holidays:
            return frozenset()
        start_text, finish_text = policy.get("startDateTime"), policy.get("finishDateTime")
        key = (phone_region(phone), start_text, finish_text)
        found = self._off.get(key)
        if found is None:
            start = datetime.fromisoformat(start_text) if start_text else self.now
            finish = datetime.fromisoformat(finish_text) if finish_text else start + self.horizon
            # a day either side: the dates are the row's local ones, the instants are UTC-ish
            first, last = (start - timedelta(days=1)).date(), (finish + timedelta(days=1)).date()
            found = self._off[key] = holiday_weekdays(key[0], first, last)
        return found

    def decide(self, phone: str, policy: Mapping[str, Any]) -> dict[str, Any] | WindowProblem:
        """``{"allowedDays": [...], "allowedTime": {day: [...]}}`` for the row, or the problem
        ``(code, message)`` that rejects it. Rows with the same window, country and period
        share one result object: policy values are read, never changed, downstream."""
        off = self._holidays(phone, policy)
        days, times = policy.get("allowedDays"), policy.get("allowedTime")
        window = "" if days is None and times is None else repr((days, times))
        found = self._cache.get((window, off))
        if found is None:
            found = self._cache[(window, off)] = self._decide(policy, off)
        return found

    def _decide(
        self, policy: Mapping[str, Any], off: frozenset[str]
    ) -> dict[str, Any] | WindowProblem:
        week = operator_week(policy, self.preset)
        problem = check_narrows(week, self.preset)
        if problem is not None:
            return (
                codes.WINDOW_NOT_ALLOWED,
                f"the row's call window is wider than the preset: {problem}",
            )
        days: list[str] = []
        times: dict[str, list[dict[str, str]]] = {}
        for day in WEEKDAYS:
            if day not in week:
                continue
            allowed = self.preset.holiday if day in off else self.preset.week[day]
            spans = _intersect(week[day], allowed)
            if spans:
                days.append(day)
                times[day] = [{"localTimeFrom": a, "localTimeTo": b} for a, b in spans]
        if not days:
            return (
                codes.WINDOW_NOT_ALLOWED,
                f"no day is left to call under {self.preset.name}: the row's days are all "
                f"public holidays ({', '.join(sorted(off))}) in its calling period",
            )
        return {"allowedDays": days, "allowedTime": times}
