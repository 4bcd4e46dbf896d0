"""phonenumbers' verdict on invalid home-country numbers, for a whole column at once.

The cells :mod:`.fastcolumn` does not accept are what a real export is full of: numbers in
ranges that do not exist, too short, too long. :meth:`.numbering.Numbering.decide_plain` gives
each its exact verdict in ~6 µs. This module takes the same steps (the country code, the
national prefix, the lengths, the region and type tests; see ``Numbering._decide``) on the
column's numbers together, with the patterns as :class:`.digit_sets.DigitSet` s, for the cells
whose verdict is one of:

* ``Invalid(country code, reason)``: a home-country number no type of its region accepts;
* ``NumberParseException`` TOO_SHORT_NSN or TOO_LONG for such a number.

Every other cell — a valid number (of another region of the code, or a type the caller may
refuse), a foreign or IDD-prefixed number, fewer than three digits, a tab, anything not plain —
gets ``None``: ask ``decide_plain``. The answers equal ``decide_plain``'s wherever given
(tests/transform/test_fastverdict.py, cell by cell).

Usage::

    verdicts = PlainVerdicts.build("RU")
    verdicts.decide(["+7 (000) 123-45-67", "+7 916 123 45 67", "12"])
    # [Invalid(7, IS_POSSIBLE), None (valid: decide_plain words it), None (two digits)]
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial

import numpy as np
import numpy.typing as npt
import phonenumbers
from phonenumbers import NumberParseException, ValidationResult
from phonenumbers.phonemetadata import PhoneMetadata

from pipeline.transform.digit_sets import DigitSet, Tables, UncompilableError, compile_digits
from pipeline.transform.fastcolumn import POWERS, Flags, Ints, read_cells, starts_with
from pipeline.transform.fastpath import kind_sets
from pipeline.transform.numbering import (
    KEEP_PREFIX,
    MAX_NSN,
    MIN_NSN,
    TOO_LONG_TEXT,
    TOO_SHORT_TEXT,
    Decision,
    Invalid,
)
from pipeline.transform.numbering_meta import Country, rules_for

_MAX_DIGITS = 18
Verdicts = npt.NDArray[np.int8]  # _ASK, _INVALID, _SHORT or _LONG per cell


class PlainVerdicts:
    """The verdicts of one home country's invalid numbers, over numpy columns."""

    def __init__(self, country: Country) -> None:
        self._country = country
        self._code = country.text
        national = country.meta.national_prefix_for_parsing
        self._national = national or ""
        idd = country.meta.international_prefix
        self._idd = idd or ""
        self._tables = Tables()
        # Country.length() for every length: it reads only the length
        self._reason = [country.length("0" * size) for size in range(_MAX_DIGITS + 1)]
        # per length: whether a whole number is too long, and whether a national prefix stays
        # (the rest would be too short or only local); looked up per cell by its length
        self._too_long = np.array([r == ValidationResult.TOO_LONG for r in self._reason])
        self._keeps_prefix = np.array([r in KEEP_PREFIX for r in self._reason])
        self._invalid = {reason: Invalid(country.code, reason) for reason in set(self._reason)}

    @classmethod
    def build(cls, region: str) -> PlainVerdicts | None:
        """For the main region of its country code, when its rules are ones this module
        reads: a literal national prefix without a transform rule, a literal IDD, a country
        code no shorter code is the start of."""
        meta = PhoneMetadata.metadata_for_region(region, None)
        code = meta.country_code if meta is not None else None
        country = rules_for(code) if code is not None else None
        if country is None or country.regions[0].code != region:
            return None
        national = country.meta.national_prefix_for_parsing or ""
        idd = country.meta.international_prefix or ""
        if country.transform or (national and not national.isdigit()):
            return None
        if idd and not idd.isdigit():
            return None
        known = phonenumbers.COUNTRY_CODE_TO_REGION_CODE
        if any(int(country.text[:size]) in known for size in range(1, len(country.text))):
            return None  # a '+' number would be read with that shorter code
        return cls(country)

    def viable(self, length: int) -> DigitSet:
        return compile_digits(self._country.general.pattern, length)

    def claims(self, at: int, length: int) -> DigitSet:
        """Numbers region ``at`` of the country claims by its leading digits."""
        leading = self._country.regions[at].leading
        assert leading is not None
        return compile_digits(leading.pattern, length, prefix=True)

    def typed(self, at: int, length: int) -> DigitSet:
        """Numbers of some type in region ``at`` (``Region.kind`` is not None)."""
        found = DigitSet([])
        for _, numbers in kind_sets(self._country.regions[at].meta, length) or []:
            found = found | numbers
        return found

    def decide(self, raws: Sequence[str]) -> list[Decision | None]:
        """``decide_plain``'s verdict for each cell where it is one this module gives, else
        None (also for every cell when a pattern cannot be read as digit sets)."""
        out: list[Decision | None] = [None] * len(raws)
        cells = read_cells(raws, plus_digit=False)
        if cells is None or not len(cells.chosen):
            return out
        try:
            verdicts, lengths = self._judge(
                cells.values, cells.counts[cells.usable], cells.plus[cells.usable]
            )
        except UncompilableError:
            return out
        too_short = NumberParseException(NumberParseException.TOO_SHORT_NSN, TOO_SHORT_TEXT)
        too_long = NumberParseException(NumberParseException.TOO_LONG, TOO_LONG_TEXT)
        invalid, reasons = self._invalid, self._reason
        for at, verdict, size in zip(
            cells.chosen.tolist(), verdicts.tolist(), lengths.tolist(), strict=True
        ):
            if verdict == _INVALID:
                out[at] = invalid[reasons[size]]
            elif verdict == _SHORT:
                out[at] = too_short
            elif verdict == _LONG:
                out[at] = too_long
        return out

    def _judge(self, digits: Ints, counts: Ints, plus: Flags) -> tuple[Verdicts, Ints]:
        """Each cell's verdict (_ASK, _INVALID, _SHORT, _LONG) and national number length."""
        code, idd = self._code, self._idd
        viable = self._tables.get("viable", self.viable)
        verdict = np.full(len(digits), _ASK, dtype=np.int8)
        # _is_viable_phone_number (and a '+' too short for a country code, TOO_SHORT_AFTER_IDD):
        # fewer than three digits are left to decide_plain
        ask = counts < 3
        with_code = starts_with(digits, counts, code)
        # a '+' other than the home code: a foreign number (decide_plain reads it)
        ask |= plus & ~with_code
        if idd:
            after = np.maximum(counts - len(idd), 0)
            # an IDD followed by a 0 is not one: country codes never start with 0
            then_zero = (after > 0) & (digits // POWERS[np.maximum(after - 1, 0)] % 10 == 0)
            ask |= ~plus & starts_with(digits, counts, idd) & ~then_zero
        nsn, length = digits.copy(), counts.copy()
        rest = np.maximum(counts - len(code), 0)
        after_code = digits % POWERS[rest]
        # +code: the rest; code without '+': the rest with the prefix stripped when that
        # makes a viable number of a non-viable one, or when the whole is too long
        potential, potential_length = self._strip(after_code, rest)
        too_long = self._too_long[counts]
        strip = ~plus & with_code
        strip &= (
            ~viable.contains(digits, counts) & viable.contains(potential, potential_length)
        ) | too_long
        np.copyto(nsn, after_code, where=plus & with_code)
        np.copyto(length, rest, where=plus & with_code)
        np.copyto(nsn, potential, where=strip)
        np.copyto(length, potential_length, where=strip)
        # _judge: the national prefix goes unless the rest is too short or only local
        stripped, stripped_length = self._strip(nsn, length)
        keep = self._keeps_prefix[stripped_length]
        np.copyto(nsn, stripped, where=~keep & (length >= MIN_NSN))
        np.copyto(length, stripped_length, where=~keep & (length >= MIN_NSN))
        verdict[length < MIN_NSN] = _SHORT
        verdict[length > MAX_NSN] = _LONG
        judged = (length >= MIN_NSN) & (length <= MAX_NSN)
        bounded = np.minimum(length, _MAX_DIGITS)  # beyond 17 digits: not judged anyway
        # the region: the first that claims the number by its leading digits, or whose types
        # accept it; a number some region accepts is valid: decide_plain words it
        valid = np.zeros(len(digits), dtype=np.bool_)
        unclaimed = judged.copy()
        regions = self._country.regions
        for at, region in enumerate(regions):
            typed = self._tables.get(("typed", at), partial(self.typed, at)).contains(nsn, bounded)
            if len(regions) == 1:
                mine = unclaimed
            elif region.leading is not None:
                claims = self._tables.get(("claims", at), partial(self.claims, at))
                mine = unclaimed & claims.contains(nsn, bounded)
            else:
                mine = unclaimed & typed
            valid |= mine & typed
            unclaimed &= ~mine
        verdict[judged & ~valid] = _INVALID
        verdict[ask] = _ASK
        return verdict, length

    def _strip(self, numbers: Ints, lengths: Ints) -> tuple[Ints, Ints]:
        """``Country.strip_national_prefix`` for each number: it goes when the number starts
        with it, unless the whole is viable and the rest is not."""
        national = self._national
        if not national:
            return numbers, lengths
        rest = np.maximum(lengths - len(national), 0)
        after = numbers % POWERS[rest]
        goes = starts_with(numbers, lengths, national) & (lengths > 0)
        viable = self._tables.get("viable", self.viable)
        goes &= ~(viable.contains(numbers, lengths) & ~viable.contains(after, rest))
        return np.where(goes, after, numbers), np.where(goes, rest, lengths)


_ASK, _INVALID, _SHORT, _LONG = range(4)
