"""phonenumbers' metadata of one country calling code, compiled once for :mod:`.numbering`.

A :class:`Country` holds what ``parse`` and the validity tests read: the general pattern and
possible lengths, the international and national prefixes, and its regions (how each claims a
number, and one type regex per national-number length from :func:`.fastpath.type_regex`, the
first matching alternative being the type ``number_type`` reports). :func:`rules_for` builds
them on first use and keeps them for the process.

Usage::

    ru = rules_for(7)
    ru.length("916123456")                 # ValidationResult.TOO_SHORT
    ru.region_of("7011234567").code        # 'KZ' (its leading digits claim the number)
"""

from __future__ import annotations

import re
from typing import Any

import phonenumbers
from phonenumbers import ValidationResult
from phonenumbers.phonemetadata import PhoneMetadata

from pipeline.transform.fastpath import type_regex

_NON_GEO = "001"


class UnsureError(Exception):
    """A rule of phonenumbers this module does not mirror: ask phonenumbers."""


class Region:
    """One region of a country code: how it claims a number and its type regexes."""

    def __init__(self, code: str, meta: Any) -> None:
        self.code = code
        self.meta = meta
        self.leading = re.compile(meta.leading_digits) if meta.leading_digits else None
        self._types: dict[int, re.Pattern[str] | None] = {}

    def kind(self, nsn: str) -> str | None:
        """phonenumbers' ``_number_type_helper`` as a type name; None for UNKNOWN."""
        length = len(nsn)
        if length not in self._types:
            self._types[length] = type_regex(self.meta, length)
        types = self._types[length]
        match = types.fullmatch(nsn) if types is not None else None
        return match.lastgroup if match is not None else None


class Country:
    """The metadata of one country calling code, compiled for :mod:`.numbering`."""

    def __init__(self, code: int, regions: tuple[str, ...]) -> None:
        self.code = code
        self.text = str(code)
        main = regions[0]
        meta = (
            PhoneMetadata.metadata_for_nongeo_region(code, None)
            if main == _NON_GEO
            else PhoneMetadata.metadata_for_region(main, None)
        )
        if meta is None or meta.general_desc is None:
            raise UnsureError(f"no metadata for +{code}")
        self.meta = meta
        general = meta.general_desc
        self.general = re.compile(general.national_number_pattern or "(?!)")
        self.lengths = tuple(general.possible_length or ())
        self.local = tuple(general.possible_length_local_only or ())
        self.idd = re.compile(meta.international_prefix) if meta.international_prefix else None
        national = meta.national_prefix_for_parsing
        self.national = re.compile(national) if national else None
        self.transform = meta.national_prefix_transform_rule
        self.regions = []
        for region in regions:
            region_meta = (
                meta
                if region == main
                else PhoneMetadata.metadata_for_region_or_calling_code(code, region)
            )
            if region_meta is None:
                raise UnsureError(f"no metadata for {region}")
            self.regions.append(Region(region, region_meta))

    def viable(self, nsn: str) -> bool:
        """``_match_national_number`` against the general pattern (no length test)."""
        return self.general.fullmatch(nsn) is not None

    def length(self, nsn: str) -> int:
        """``_test_number_length`` for type UNKNOWN (general lengths)."""
        possible = self.lengths
        actual = len(nsn)
        if not possible or possible[0] == -1:
            return ValidationResult.INVALID_LENGTH
        if actual in self.local:
            return ValidationResult.IS_POSSIBLE_LOCAL_ONLY
        if possible[0] == actual:
            return ValidationResult.IS_POSSIBLE
        if possible[0] > actual:
            return ValidationResult.TOO_SHORT
        if possible[-1] < actual:
            return ValidationResult.TOO_LONG
        return (
            ValidationResult.IS_POSSIBLE
            if actual in possible[1:]
            else ValidationResult.INVALID_LENGTH
        )

    def strip_national_prefix(self, nsn: str) -> str:
        """``_maybe_strip_national_prefix_carrier_code``: the number without it, when it goes."""
        if not nsn or self.national is None:
            return nsn
        match = self.national.match(nsn)
        if match is None:
            return nsn
        groups = match.groups()
        if self.transform and groups and groups[-1] is not None:
            raise UnsureError("a national prefix transform rule")
        rest = nsn[match.end() :]
        if self.viable(nsn) and not self.viable(rest):
            return nsn
        return rest

    def region_of(self, nsn: str) -> Region | None:
        """``region_code_for_number``: the only region, or the first that claims ``nsn``."""
        if len(self.regions) == 1:
            return self.regions[0]
        for region in self.regions:
            if region.leading is not None:
                if region.leading.match(nsn):
                    return region
            elif region.kind(nsn) is not None:
                return region
        return None


_COUNTRIES: dict[int, Country | None] = {}


def rules_for(code: int) -> Country | None:
    """The compiled metadata of ``code`` (cached; None when phonenumbers has none)."""
    if code not in _COUNTRIES:
        regions = phonenumbers.COUNTRY_CODE_TO_REGION_CODE.get(code)
        try:
            _COUNTRIES[code] = Country(code, tuple(regions)) if regions else None
        except UnsureError:
            _COUNTRIES[code] = None
    return _COUNTRIES[code]


def extract_country_code(digits: str) -> tuple[int, str]:
    """phonenumbers' ``_extract_country_code``: the first 1 to 3 digits that are a known code."""
    if not digits or digits[0] == "0":
        return 0, digits
    known = phonenumbers.COUNTRY_CODE_TO_REGION_CODE
    for size in range(1, min(len(digits), 3) + 1):
        if int(digits[:size]) in known:
            return int(digits[:size]), digits[size:]
    return 0, digits
