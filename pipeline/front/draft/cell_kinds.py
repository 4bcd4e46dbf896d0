"""What sample cells of a column are, judged by the transform's own rules.

A draft config must pass ``validate`` at once, so a column is typed only as what *all* its
sample values convert to under the very functions the transform applies (payload types,
per-row policy fields, phone normalization): a type that fails on a sample stays ``string``.

Usage::

    phones = pick_phone_rules([["8 916 123-45-67", "+7 903 111-22-33"]])  # PhoneConfig
    normalizer = PhoneNormalizer(phones)
    count_phones(normalizer, values)          # how many values are callable numbers
    count_fitting("decimal", values)          # how many convert to a payload type
    count_fitting_policy("gmtZone", values)   # how many are valid per-row zones
    describe(values)                          # "numbers", "dates", "text", ...
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from pipeline.config import PhoneConfig
from pipeline.transform.fields import POLICY_CONVERTERS, to_json
from pipeline.transform.phones import PhoneNormalizer

# Regions tried for numbers written without a country code, in order of preference (ties
# go to the first): the exports this tool meets are Russian first; English exports from
# HubSpot/Salesforce are mostly North American or British.
REGIONS = ("RU", "KZ", "BY", "UZ", "US", "GB", "DE", "FR")
_DIGITS = re.compile(r"\d")
_LOOKS = (
    ("decimal", "numbers"),
    ("date", "dates"),
    ("datetime", "dates with times"),
    ("bool", "yes/no values"),
)


def count_phones(normalizer: PhoneNormalizer, values: Sequence[str]) -> int:
    """How many ``values`` normalize to a number the phone rules accept."""
    return sum(1 for value in values if isinstance(normalizer.normalize(value), str))


def pick_phone_rules(columns: Sequence[Sequence[str]]) -> PhoneConfig:
    """The ``phone:`` rules under which most sample values of ``columns`` are callable:
    the default region among :data:`REGIONS`, ``multiple: first`` and ``extensions:
    strip`` only when they make more values callable (rejecting stays the default)."""
    values = [value for column in columns for value in column]
    if not values:
        return PhoneConfig()
    # The region first (plain rules), then the two leniencies for that region: 11 rule sets
    # instead of 32, each a normalizer with its own tables.
    best, best_count = PhoneConfig(), -1
    for region in REGIONS:
        count = count_phones(PhoneNormalizer(PhoneConfig(default_region=region)), values)
        if count > best_count:  # strictly more: earlier regions win ties
            best, best_count = PhoneConfig(default_region=region), count
    region = best.default_region
    for multiple, extensions in (("first", "reject"), ("reject", "strip"), ("first", "strip")):
        rules = PhoneConfig(default_region=region, multiple=multiple, extensions=extensions)
        count = count_phones(PhoneNormalizer(rules), values)
        if count > best_count:  # only when it makes more values callable
            best, best_count = rules, count
    return best


def count_fitting(kind: str, values: Sequence[str]) -> int:
    """How many ``values`` convert to payload type ``kind`` (``decimal``, ``date``, ...)."""
    return sum(1 for value in values if _fits(lambda v: to_json(kind, v), value))


def count_fitting_policy(field: str, values: Sequence[str]) -> int:
    """How many ``values`` are valid per-row values of API policy field ``field``."""
    convert = POLICY_CONVERTERS[field]
    return sum(1 for value in values if _fits(convert, value))


def _fits(convert: object, value: str) -> bool:
    try:
        convert(value)  # type: ignore[operator]
    except ValueError:  # the transform's FieldError is one
        return False
    return True


def describe(values: Sequence[str]) -> str:
    """A few words on what the values look like (for the comment of an unmapped column);
    never the values themselves: the config file may be shared, the export holds personal
    data."""
    if not values:
        return "empty in the rows looked at"
    for kind, words in _LOOKS:
        if count_fitting(kind, values) == len(values):
            return words
    if all(_DIGITS.search(value) for value in values):
        return "text with digits"
    return "text"
