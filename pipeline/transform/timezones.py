"""A local time zone for every row, decided in a stated order, or a decision not to call.

Order (docs/compliance.md): the mapped ``gmtZone`` column; then the number itself — a Russian
mobile number (``79…``) through the numbering-plan table in ``data/ru_mobile_zones.tsv``, any
other number through phonenumbers' time-zone data for its prefix (area codes of fixed lines;
every number of a one-zone country) — when that gives exactly one zone; then the configured
fallback, which is a named zone or ``reject`` (reason ``timezone_unknown``).

The data is loaded once per process and cached; a decision is a few dict look-ups.

Usage::

    zones = ZoneDecider(use_number=True, fallback="reject")
    zones.decide("79241234567")   # ('Asia/Vladivostok', 'mobile_range')
    zones.decide("74012123456")   # ('Europe/Kaliningrad', 'number_prefix')
    zones.decide("79400000000")   # (None, 'fallback'): no zone known → reject
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources
from typing import Final, Literal

import phonenumbers
from phonenumbers import timezone, tzdata

ZoneSource = Literal["column", "policy", "number_prefix", "mobile_range", "fallback"]
# What the ledger's rows.zone_source holds; "policy" is a fixed policy.gmtZone in the config.
ZONE_SOURCES: Final[tuple[ZoneSource, ...]] = (
    "column",
    "policy",
    "number_prefix",
    "mobile_range",
    "fallback",
)
UNKNOWN: Final = "?"

# phonenumbers' data gives Kaliningrad's area code (4012) a zone of the same winter offset
# with summer time (Europe/Bucharest): an hour wrong half the year. Corrected per country code.
_CORRECTIONS: Final[dict[tuple[str, str], str]] = {("7", "Europe/Bucharest"): "Europe/Kaliningrad"}


@lru_cache(maxsize=1)
def ru_mobile_table() -> tuple[dict[str, tuple[str, ...]], int]:
    """Prefix (``79…`` digits) → zones, from the shipped table, and the longest prefix length.

    ``()`` for a prefix means the region is unknown (the source names no region, or a federal
    district that spans zones); several zones mean the region spans them.
    """
    text = resources.files("pipeline.transform.data").joinpath("ru_mobile_zones.tsv")
    table: dict[str, tuple[str, ...]] = {}
    for line in text.read_text(encoding="utf-8").splitlines():
        prefix, zones = line.split("\t")
        table[prefix] = () if zones == UNKNOWN else tuple(zones.split(","))
    return table, max(map(len, table))


def mobile_zones(phone: str) -> tuple[str, ...]:
    """The zones of a Russian mobile number ``79XXXXXXXXX`` by its longest known prefix."""
    table, longest = ru_mobile_table()
    for size in range(min(longest, len(phone)), 2, -1):
        zones = table.get(phone[:size])
        if zones is not None:
            return zones
    return ()


def _country_code(phone: str) -> str | None:
    for size in (1, 2, 3):
        if int(phone[:size] or 0) in phonenumbers.COUNTRY_CODE_TO_REGION_CODE:
            return phone[:size]
    return None


@lru_cache(maxsize=65_536)
def prefix_zones(phone: str) -> tuple[str, ...]:
    """phonenumbers' zones for a number (digits with country code), as its own
    ``time_zones_for_number`` gives them: by prefix for geographic numbers, the whole
    country's zones for a mobile number of a country with several zones."""
    code = _country_code(phone)
    if code is None:
        return ()
    data = tzdata.TIMEZONE_DATA
    zones: tuple[str, ...] = ()
    for size in range(min(tzdata.TIMEZONE_LONGEST_PREFIX, len(phone)), 0, -1):
        found = data.get(phone[:size])
        if found is not None:
            zones = found
            break
    if len(zones) == 1 and len(data.get(code, ())) > 1 and code != "7":
        # a country with several zones: only a geographic number's prefix tells its zone
        # (+7 is handled by its own rules: 79… never comes here, the rest is geographic)
        try:
            zones = tuple(timezone.time_zones_for_number(phonenumbers.parse("+" + phone)))
        except phonenumbers.NumberParseException:
            return ()
    return tuple(_CORRECTIONS.get((code, zone), zone) for zone in zones)


class ZoneDecider:
    """Decide a row's zone from its number (the column is read by the transform first).

    ``use_number``: look at the number at all (``policy.timezone.from: number``);
    ``fallback``: a zone in the API's form, or None for "reject the row".
    """

    def __init__(self, *, use_number: bool, fallback: str | None) -> None:
        self.use_number = use_number
        self.fallback = fallback
        table, longest = ru_mobile_table()
        self._mobile = table.get
        self._sizes = range(longest, 2, -1)

    def number_zone(self, phone: str) -> tuple[str, ZoneSource] | None:
        """The number's one zone and how it was found, or None when it has none or several."""
        zones: tuple[str, ...] = ()
        source: ZoneSource
        if phone[:2] == "79" and len(phone) == 11:
            # mobile_zones() inlined: this runs once per row
            mobile, source = self._mobile, "mobile_range"
            for size in self._sizes:
                found = mobile(phone[:size])
                if found is not None:
                    zones = found
                    break
        else:
            zones, source = prefix_zones(phone), "number_prefix"
        if len(zones) == 1:
            return zones[0], source
        return None

    def decide(self, phone: str) -> tuple[str | None, ZoneSource]:
        """``(zone, source)``; zone None means "no zone: reject" (source ``fallback``)."""
        if self.use_number:
            found = self.number_zone(phone)
            if found is not None:
                return found
        return self.fallback, "fallback"
