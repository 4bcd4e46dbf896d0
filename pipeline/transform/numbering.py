"""phonenumbers' whole verdict — valid, invalid and why, or unparsable — for plain phone cells.

:mod:`.fastpath` answers the common valid shapes of the default region. The cells it leaves
are the expensive ones in a real export: junk, non-existent ranges, numbers too short or too
long, landlines, foreign numbers. ``phonenumbers.parse`` + ``is_valid_number`` +
``is_possible_number_with_reason`` cost ~100 µs on those; :func:`Numbering.decide` gives the
same answer in a few µs by following the same steps (``parse`` as in phonenumbers 8.13 to 9.x:
IDD, country code, national prefix, lengths; then the region and type tests) on metadata
compiled once per country calling code (:mod:`.numbering_meta`).

It handles *plain* cells: ASCII digits with the separators `` ().-``, a ``+`` only as the
first character, at most 64 characters; and any cell without a digit or a plus (words such as
``нет`` or ``n/a``), which phonenumbers calls "not a number". Everything else, and the few
rules not mirrored here (a national prefix with a transform rule, an RFC 3966 phone-context),
gives ``None``: "ask phonenumbers". ``tests/transform/test_numbering.py`` compares every
decision with phonenumbers on generated numbers of each covered country, and
``benchmarks/bench_ingest.py`` on every row of its files.

Usage::

    numbering = Numbering("RU")
    numbering.decide("+380 50 123 4567")   # Valid("380501234567", "UA", "mobile")
    numbering.decide("+7 (000) 000-00-00") # Invalid(7, ValidationResult.IS_POSSIBLE)
    numbering.decide("нет")                # NumberParseException(NOT_A_NUMBER, ...)
    numbering.decide("8 916 123 45 67 доб. 5")   # None: not plain, ask phonenumbers
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from phonenumbers import NumberParseException, ValidationResult
from phonenumbers.phonemetadata import PhoneMetadata

from pipeline.transform.numbering_meta import Country, UnsureError, extract_country_code, rules_for

_PLAIN = re.compile(r"\+?[0-9 ().\-]*\Z")
# phonenumbers' own start test: a cell without any digit (of any script) or plus sign
_START = re.compile("[+\uff0b\\d]", re.UNICODE)
MAX_PLAIN = 64
MIN_NSN, MAX_NSN = 2, 17  # phonenumbers' _MIN_LENGTH_FOR_NSN and _MAX_LENGTH_FOR_NSN
_NOT_A_NUMBER = "The string supplied did not seem to be a phone number."
_TOO_SHORT_AFTER_IDD = (
    "Phone number had an IDD, but after this was not long enough to be a viable phone number."
)
_UNKNOWN_CODE = "Country calling code supplied was not recognised."
_AFTER_PLUS = "Could not interpret numbers after plus-sign."
TOO_SHORT_TEXT = "The string supplied is too short to be a phone number."
TOO_LONG_TEXT = "The string supplied is too long to be a phone number."


@dataclass(frozen=True, slots=True)
class Valid:
    """A valid number: digits with country code, its region and type name."""

    digits: str
    region: str
    kind: str


@dataclass(frozen=True, slots=True)
class Invalid:
    """A number phonenumbers parses but does not find valid; ``reason`` is its
    ``is_possible_number_with_reason`` (a :class:`ValidationResult` value)."""

    country_code: int
    reason: int


Decision = Valid | Invalid | NumberParseException


class Numbering:
    """Decide plain cells as phonenumbers does, read with one default region."""

    def __init__(self, region: str) -> None:
        self.region = region
        meta = PhoneMetadata.metadata_for_region(region, None)
        code = meta.country_code if meta is not None else None
        self._home = rules_for(code) if code is not None else None
        # Only the main region of its code: elsewhere `parse` swaps metadata in ways not kept here
        if self._home is not None and self._home.regions[0].code != region:
            self._home = None

    def decide(self, text: str) -> Decision | None:
        """phonenumbers' verdict on the stripped cell ``text``, or None when not certain."""
        home = self._home
        if home is None or len(text) > MAX_PLAIN:
            return None
        if _PLAIN.match(text) is None:
            if _START.search(text) is None and ";phone-context=" not in text:
                return NumberParseException(NumberParseException.NOT_A_NUMBER, _NOT_A_NUMBER)
            return None
        try:
            return self._decide(text, home)
        except UnsureError:
            return None

    def decide_plain(self, raw: str) -> Decision | None:
        """:meth:`decide` for a raw cell that is plain once stripped and not empty, else None
        (such a cell can hold nothing that the normalizer checks before parsing)."""
        text = raw.strip()
        home = self._home
        if home is None or not text or len(text) > MAX_PLAIN or _PLAIN.match(text) is None:
            return None
        try:
            return self._decide(text, home)
        except UnsureError:
            return None

    def _decide(self, text: str, home: Country) -> Decision:
        plus = text[:1] == "+"
        # _extract_possible_number: from the first digit or plus, trailing punctuation dropped
        kept = text.lstrip(" ().-").rstrip(" ().-+")
        digits = kept.replace(" ", "").replace("(", "").replace(")", "")
        digits = digits.replace(".", "").replace("-", "").replace("+", "")
        # _is_viable_phone_number: two digits alone, or at least three among punctuation
        if len(digits) < 3 and not (len(digits) == 2 and kept == digits):
            return NumberParseException(NumberParseException.NOT_A_NUMBER, _NOT_A_NUMBER)
        located = self._locate(digits, plus, home)
        if isinstance(located, NumberParseException):
            return located
        return _judge(*located)

    def _locate(
        self, digits: str, plus: bool, home: Country
    ) -> tuple[Country, str] | NumberParseException:
        """The country and national number ``parse`` reads, or the exception it raises."""
        try:
            code, nsn = self._country_code(digits, plus, home)
        except NumberParseException as exc:
            if exc.error_type != NumberParseException.INVALID_COUNTRY_CODE or not plus:
                return exc
            try:  # phonenumbers tries once more without the plus sign
                code, nsn = self._country_code(digits, False, home)
            except NumberParseException as again:
                return again
            if code == 0:
                return NumberParseException(NumberParseException.INVALID_COUNTRY_CODE, _AFTER_PLUS)
        if code == 0:
            return home, digits
        country = rules_for(code)
        if country is None:
            raise UnsureError(f"+{code}")
        return country, nsn

    def _country_code(self, digits: str, plus: bool, home: Country) -> tuple[int, str]:
        """``_maybe_extract_country_code``: (code, national number), or (0, "") when the
        number is read in the default region; raises as phonenumbers does."""
        if not plus and home.idd is not None:
            match = home.idd.match(digits)
            # an IDD followed by a 0 is not one: country codes never start with 0
            if match is not None and digits[match.end() : match.end() + 1] != "0":
                digits, plus = digits[match.end() :], True
        if plus:
            if len(digits) <= MIN_NSN:
                raise NumberParseException(
                    NumberParseException.TOO_SHORT_AFTER_IDD, _TOO_SHORT_AFTER_IDD
                )
            code, rest = extract_country_code(digits)
            if code == 0:
                raise NumberParseException(NumberParseException.INVALID_COUNTRY_CODE, _UNKNOWN_CODE)
            return code, rest
        if digits.startswith(home.text):
            potential = home.strip_national_prefix(digits[len(home.text) :])
            if (not home.viable(digits) and home.viable(potential)) or home.length(
                digits
            ) == ValidationResult.TOO_LONG:
                return home.code, potential
        return 0, ""


def _judge(country: Country, nsn: str) -> Decision:
    """The end of ``parse`` (national prefix, lengths), then ``is_valid_number`` and the
    region and type of a valid number, or ``is_possible_number_with_reason`` of an invalid one."""
    if len(nsn) < MIN_NSN:
        return NumberParseException(NumberParseException.TOO_SHORT_NSN, TOO_SHORT_TEXT)
    stripped = country.strip_national_prefix(nsn)
    if country.length(stripped) not in KEEP_PREFIX:
        nsn = stripped
    if len(nsn) < MIN_NSN:
        return NumberParseException(NumberParseException.TOO_SHORT_NSN, TOO_SHORT_TEXT)
    if len(nsn) > MAX_NSN:
        return NumberParseException(NumberParseException.TOO_LONG, TOO_LONG_TEXT)
    region = country.region_of(nsn)
    kind = region.kind(nsn) if region is not None else None
    if region is None or kind is None:
        return Invalid(country.code, country.length(nsn))
    return Valid(country.text + nsn, region.code, kind)


# parse keeps the national prefix when the number without it would be one of these
KEEP_PREFIX = frozenset(
    {
        ValidationResult.TOO_SHORT,
        ValidationResult.IS_POSSIBLE_LOCAL_ONLY,
        ValidationResult.INVALID_LENGTH,
    }
)
