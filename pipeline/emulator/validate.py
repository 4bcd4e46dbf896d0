"""Request validation of the emulated Calls API (reference §2-3); first failure rejects all.

Documented error types are used where the reference names one. For the cases it leaves open
the emulator picks these (all HTTP 400, body ``{type, message, ...}``):

===========================  =================================================================
``request.json.invalid``     the body is not valid JSON (or not UTF-8)
``request.body.invalid``     valid JSON of the wrong shape (not an array/object, a field of the
                             wrong type, malformed ``allowedTime``/``externalCheck``/``payload``)
``invalid.max_attempts``     ``maxAttempts`` not an integer in 1…50
``invalid.retry_interval``   ``retryIntervalInMinutes`` not an integer in 1…2880
``invalid.allowed_days``     ``allowedDays`` empty, longer than 7, repeated or unknown day names
``invalid.date_time``        a date-time that is not ISO-8601 with a zone, or start >= finish
``invalid.pagination``       ``page`` outside 0…199 or ``pageSize`` outside 1…200
===========================  =================================================================

Phone rule (the docs say only "digits with country code, no ``+``"): a JSON string of 10-15
ASCII digits not starting with ``0``, or a JSON integer that prints as such. A ``+``, spaces,
dashes or a float are ``phone.bad.format``; a missing phone is ``phone.bad.format`` with
``phone: ""``.

``gmtZone`` follows Java's ``ZoneId.of`` as the reference suggests: ``Z``; ``±h``, ``±hh``,
``±hh:mm``, ``±hhmm``, ``±hh:mm:ss``, ``±hhmmss`` within ±18:00; those prefixed by ``UTC``,
``GMT`` or ``UT`` (or the prefix alone); or an IANA zone id.

Usage::

    items = validate_add_phones(json.loads(body), default_attempts=3, default_retry=60)
"""

from __future__ import annotations

import re
import zoneinfo
from datetime import datetime
from functools import cache
from typing import Any

from pipeline.emulator.model import DAY_NAMES, ApiError, Policy, error

_PHONE = re.compile(r"[1-9][0-9]{9,14}")
_OFFSET = re.compile(r"([+-])(\d{1,2})(?::?(\d{2}))?(?::?(\d{2}))?")
_HHMM = re.compile(r"([01]\d|2[0-3]):([0-5]\d)")
_ALLOWED_TIME_KEYS = frozenset((*DAY_NAMES, "default"))

# One validated element of an addPhones request: phone, payload, policy.
Item = tuple[str, dict[str, Any] | None, Policy]


def bad_body(message: str) -> ApiError:
    return error(400, "request.body.invalid", message)


def check_phone(raw: Any) -> str:
    """Return the phone as a digit string or raise ``phone.bad.format``."""
    if isinstance(raw, str):
        phone = raw
    elif isinstance(raw, int) and not isinstance(raw, bool):
        phone = str(raw)
    else:
        shown = "" if raw is None else str(raw)
        raise error(400, "phone.bad.format", f"phone {shown!r} is not a digit string", phone=shown)
    if not _PHONE.fullmatch(phone):
        raise error(
            400,
            "phone.bad.format",
            f"phone {phone!r} must be 10-15 digits with the country code and no '+'",
            phone=phone,
        )
    return phone


@cache
def _iana_zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def zone_is_valid(zone: str) -> bool:
    """True when ``zone`` is a gmtZone the real service would accept (see module docstring)."""
    if zone == "Z":
        return True
    for prefix in ("UTC", "GMT", "UT"):
        if zone.startswith(prefix):
            rest = zone[len(prefix) :]
            return rest == "" or (rest[0] in "+-" and _offset_ok(rest))
    if zone[:1] in "+-":
        return _offset_ok(zone)
    zones = _iana_zones()
    if zones:
        return zone in zones
    # No tz database on this machine: fall back to the shape of an IANA id.
    return re.fullmatch(r"[A-Za-z]+(?:/[A-Za-z0-9_+-]+)+", zone) is not None


def _offset_ok(text: str) -> bool:
    match = _OFFSET.fullmatch(text)
    if not match:
        return False
    hours_text = match.group(2)
    if len(hours_text) == 1 and match.group(3):
        return False  # "+3:00" is not in the grammar; "+03:00" and "+3" are
    hours, minutes, seconds = (int(g) if g else 0 for g in match.group(2, 3, 4))
    if minutes > 59 or seconds > 59:
        return False
    return hours * 3600 + minutes * 60 + seconds <= 18 * 3600


def check_zone(zone: Any, phone: str) -> str:
    if not isinstance(zone, str) or not zone_is_valid(zone):
        raise error(
            400,
            "phone.gmtZone.bad.format",
            f"gmtZone {zone!r} of phone {phone} is not an offset within +-18:00 or a zone id",
            phone=phone,
            gmtZone=str(zone),
        )
    return zone


def _int_in(value: Any, low: int, high: int, type_: str, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise error(400, type_, f"{name} must be an integer from {low} to {high}, got {value!r}")
    return value


def parse_date_time(value: Any, name: str) -> int:
    """ISO-8601 date-time with a zone (``Z`` or an offset) → Unix milliseconds."""
    try:
        if not isinstance(value, str):
            raise ValueError(value)
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise error(
            400, "invalid.date_time", f"{name} {value!r} is not an ISO-8601 date-time"
        ) from None
    if moment.tzinfo is None:
        raise error(400, "invalid.date_time", f"{name} {value!r} has no zone; add Z or an offset")
    return round(moment.timestamp() * 1000)


def _check_days(days: Any) -> list[str]:
    if (
        not isinstance(days, list)
        or not 1 <= len(days) <= 7
        or len(set(map(str, days))) != len(days)
        or any(day not in DAY_NAMES for day in days)
    ):
        raise error(400, "invalid.allowed_days", f"allowedDays must be 1-7 distinct of {DAY_NAMES}")
    return list(days)


def _minutes(text: Any) -> int:
    match = _HHMM.fullmatch(text) if isinstance(text, str) else None
    if not match:
        raise bad_body(f"local time {text!r} must be HH:MM between 00:00 and 23:59")
    return int(match.group(1)) * 60 + int(match.group(2))


def _check_allowed_time(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict) or not value:
        raise bad_body("allowedTime must be an object keyed by day name or 'default'")
    for key, intervals in value.items():
        if key not in _ALLOWED_TIME_KEYS:
            raise bad_body(f"allowedTime key {key!r} is not a day name or 'default'")
        if not isinstance(intervals, list) or not intervals:
            raise bad_body(f"allowedTime.{key} must be a non-empty list of intervals")
        spans = []
        for interval in intervals:
            if not isinstance(interval, dict):
                raise bad_body(f"allowedTime.{key} holds a non-object interval")
            spans.append(
                (_minutes(interval.get("localTimeFrom")), _minutes(interval.get("localTimeTo")))
            )
        spans.sort()
        for index, (start, end) in enumerate(spans):
            if start >= end or (index and start < spans[index - 1][1]):
                raise error(
                    400,
                    "invalid.call.allowed.time",
                    f"allowedTime.{key}: intervals must be non-empty and must not overlap",
                )
    return value


def _policy(item: dict[str, Any], phone: str, attempts: int, retry: int) -> Policy:
    get = item.get
    policy = Policy(max_attempts=attempts, retry_interval_min=retry)
    if (value := get("maxAttempts")) is not None:
        policy.max_attempts = _int_in(value, 1, 50, "invalid.max_attempts", "maxAttempts")
    if (value := get("retryIntervalInMinutes")) is not None:
        policy.retry_interval_min = _int_in(
            value, 1, 2880, "invalid.retry_interval", "retryIntervalInMinutes"
        )
    if (value := get("dialerPriority")) is not None:
        policy.dialer_priority = _int_in(value, 1, 5, "invalid.dialer_priority", "dialerPriority")
    if (value := get("gmtZone")) is not None:
        policy.gmt_zone = check_zone(value, phone)
    if (value := get("allowedDays")) is not None:
        policy.allowed_days = _check_days(value)
    if (value := get("allowedTime")) is not None:
        policy.allowed_time = _check_allowed_time(value)
    elif get("localTimeFrom") is not None or get("localTimeTo") is not None:
        # The deprecated flat window maps onto allowedTime.default.
        window = {
            "localTimeFrom": get("localTimeFrom", "00:00"),
            "localTimeTo": get("localTimeTo", "23:59"),
        }
        policy.allowed_time = _check_allowed_time({"default": [window]})
    if (value := get("startDateTime")) is not None:
        policy.start_ms = parse_date_time(value, "startDateTime")
    if (value := get("finishDateTime")) is not None:
        policy.finish_ms = parse_date_time(value, "finishDateTime")
    start, finish = policy.start_ms, policy.finish_ms
    if start is not None and finish is not None and start >= finish:
        raise error(400, "invalid.date_time", "startDateTime must be before finishDateTime")
    check = get("externalCheck")
    if check is not None and (
        not isinstance(check, dict) or not isinstance(check.get("externalCheckUrl"), str)
    ):
        raise bad_body("externalCheck must be an object with a string externalCheckUrl")
    return policy


# Fields that change nothing but the policy; an element with none of them takes the fast path.
_POLICY_FIELDS = frozenset(
    {
        "maxAttempts", "retryIntervalInMinutes", "dialerPriority", "gmtZone", "allowedDays",
        "allowedTime", "localTimeFrom", "localTimeTo", "startDateTime", "finishDateTime",
        "externalCheck",
    }
)  # fmt: skip


def validate_add_phones(body: Any, default_attempts: int, default_retry: int) -> list[Item]:
    """Validate an addPhones body; return one :data:`Item` per element, in request order."""
    if not isinstance(body, list):
        raise bad_body("the addPhones body must be a JSON array of objects with a phone")
    items: list[Item] = []
    seen: set[str] = set()
    duplicates: dict[str, None] = {}
    # One policy for every element that sets none of its fields: a job's policy is never
    # changed once validated, and a 500-row request then makes 500 fewer objects.
    default = Policy(max_attempts=default_attempts, retry_interval_min=default_retry)
    plain, valid = _POLICY_FIELDS.isdisjoint, _PHONE.fullmatch
    for element in body:
        if not isinstance(element, dict):
            raise bad_body("every addPhones element must be a JSON object")
        phone = element.get("phone")
        if type(phone) is not str or not valid(phone):  # the common case, checked inline
            phone = check_phone(phone)
        payload = element.get("payload")
        if payload is not None and not isinstance(payload, dict):
            raise bad_body(f"payload of phone {phone} must be a JSON object")
        if plain(element):
            policy = default
        else:
            policy = _policy(element, phone, default_attempts, default_retry)
        if phone in seen:
            duplicates[phone] = None
        seen.add(phone)
        items.append((phone, payload, policy))
    if duplicates:
        listed = list(duplicates)
        raise error(
            400,
            "phone.duplicated",
            f"the request repeats {len(listed)} phone(s); each phone may appear once per request",
            phone=listed[0],
            phonesDuplicates=listed,
        )
    return items


def validate_crm_params(params: dict[str, str], default_attempts: int, default_retry: int) -> Item:
    """Validate crmCalls addPhone parameters; every unknown parameter becomes a payload key."""
    phone = check_phone(params.get("phone"))
    policy = Policy(max_attempts=default_attempts, retry_interval_min=default_retry)
    if "gmtZone" in params:
        policy.gmt_zone = check_zone(params["gmtZone"], phone)
    payload = {
        key: value
        for key, value in params.items()
        if key not in ("phone", "gmtZone", "Idempotence-Key")
    }
    return phone, payload or None, policy


def validate_selection(body: Any) -> tuple[list[str], list[str]]:
    """Validate a ``{phones?, ids?}`` body of cancel/getReport; numbers are accepted."""
    if not isinstance(body, dict):
        raise bad_body("the body must be a JSON object with 'phones' and/or 'ids' arrays")
    result: list[list[str]] = []
    for name in ("phones", "ids"):
        values = body.get(name) or []
        if not isinstance(values, list) or any(
            isinstance(v, bool) or not isinstance(v, str | int) for v in values
        ):
            raise bad_body(f"{name} must be an array of strings or integers")
        result.append([str(v) for v in values])
    return result[0], result[1]


def validate_pagination(value: Any) -> tuple[int, int]:
    """``{page, pageSize}`` (both optional) → (page, size) with the documented bounds."""
    if value is None:
        return 0, 20
    if not isinstance(value, dict):
        raise bad_body("pagination must be an object with page and pageSize")
    page = _int_in(value.get("page", 0), 0, 199, "invalid.pagination", "page")
    size = _int_in(value.get("pageSize", 20), 1, 200, "invalid.pagination", "pageSize")
    return page, size
