"""Phone normalization: one raw cell → digits with country code, or a precise problem.

The policy comes from ``phone:`` in the config (docs/configuration.md). Every verdict equals
what ``phonenumbers`` says about the cell: regular shapes go through :mod:`.fastpath` (derived
from phonenumbers' metadata), everything else through ``phonenumbers.parse`` itself. Results
are cached on the raw text, so a value repeated across the file costs one dict lookup.

Usage::

    norm = PhoneNormalizer(PhoneConfig(default_region="RU"))
    norm.normalize("8 (916) 123-45-67")   # '79161234567'
    norm.normalize("7,91612E+10")         # PhoneProblem('phone_lossy', ...)
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import cast

import phonenumbers
from phonenumbers import NumberParseException, ValidationResult

from pipeline.config import PhoneConfig
from pipeline.transform import codes
from pipeline.transform.fastpath import TYPE_NAMES, FastPath
from pipeline.transform.fastverdict import PlainVerdicts
from pipeline.transform.numbering import Decision, Invalid, Numbering, Valid
from pipeline.transform.phone_reasons import not_valid, unparsable


@dataclass(frozen=True, slots=True)
class PhoneProblem:
    """Why a phone cell cannot be called: a reason code and a message without the number."""

    code: str
    message: str


# Digits that are already gone: scientific notation as Excel writes it (7,91612E+10, 7.9e10),
# and masks (#, *, ?, XXX). They are rejected, never guessed: a guess calls a stranger.
# The Cyrillic look-alikes of e/E and x/X are included: a spreadsheet shows them the same.
_LOSSY = re.compile(r"[#*?]|[0-9]\s*[eE\u0435\u0415]\s*[+-]?\s*[0-9]|[xX\u0445\u0425]{2,}")
# Separators between several numbers in one cell; a part counts as a number from 7 digits on.
_SEVERAL = re.compile(r"[,;/|\n]|\s(?:или|or)\s", re.IGNORECASE)
# A plain number, spaces, a lower-case "доб" or "ext" label, up to six digits: a subset of the
# labelled branch of phonenumbers' extension grammar (_EXTN_PATTERNS_FOR_PARSING), in which
# the extension starts where the spaces before the label do.
_LABELLED_EXTENSION = re.compile(
    r"(?P<main>\+?[0-9 ().\-]*[0-9][0-9().\-]*) *(?:доб|ext)[.:]? *[0-9]{1,6}"
)
_NUMBERISH_DIGITS = 7
_COLUMN_FROM = 32  # cells left by the fast path from which they are judged as a column
_PARSE_CODES = {
    NumberParseException.TOO_SHORT_NSN: codes.PHONE_TOO_SHORT,
    NumberParseException.TOO_SHORT_AFTER_IDD: codes.PHONE_TOO_SHORT,
    NumberParseException.TOO_LONG: codes.PHONE_TOO_LONG,
}
_WHAT = {codes.PHONE_TOO_SHORT: "too short", codes.PHONE_TOO_LONG: "too long"}
_LENGTH_CODES = {
    ValidationResult.TOO_SHORT: codes.PHONE_TOO_SHORT,
    # a local number without its area code is too short to dial from a campaign
    ValidationResult.IS_POSSIBLE_LOCAL_ONLY: codes.PHONE_TOO_SHORT,
    ValidationResult.TOO_LONG: codes.PHONE_TOO_LONG,
}


class PhoneNormalizer:
    """Normalize phone cells under one :class:`PhoneConfig`; pure and cached.

    ``fast=False`` switches the fast path off: the result is then plain phonenumbers on every
    value, the reference the tests and the benchmark compare against.
    """

    def __init__(self, config: PhoneConfig, *, fast: bool = True, cache_size: int = 100_000):
        self.config = config
        self.region = config.default_region
        self._fast = FastPath(self.region) if fast else None
        self._numbering = Numbering(self.region) if fast else None
        self._verdicts = PlainVerdicts.build(self.region) if fast else None
        self._regions = frozenset(config.allowed_regions)
        self._types = frozenset(config.allowed_types)
        self._cache: dict[str, str | PhoneProblem] = {}
        self._details: dict[tuple[int, str], str] = {}  # _invalid's wording per code and reason
        # Bounded so memory stays flat on files of unique numbers; clearing is cheaper than LRU
        # bookkeeping and repeated values cluster in practice (same export, same customers).
        self._cache_size = cache_size

    def normalize(self, raw: str) -> str | PhoneProblem:
        """Digits with country code (no ``+``), or the :class:`PhoneProblem`."""
        result = self._cache.get(raw)
        if result is None:
            result = self._compute(raw)
            if len(self._cache) >= self._cache_size:
                self._cache.clear()
            self._cache[raw] = result
        return result

    def normalize_many(self, raws: Sequence[str]) -> list[str | PhoneProblem]:
        """:meth:`normalize` for a whole column (the answers are identical; only the cost
        differs).

        The fast path judges the column at once (:meth:`FastPath.digits_many`); the values it
        leaves are worked out once each — the invalid home-country numbers among them again as
        a column (:class:`.fastverdict.PlainVerdicts`) — and the answers kept in the same
        bounded cache as :meth:`normalize`'s, so junk repeated across the file (``нет``, empty
        cells) costs a dict lookup.
        """
        if self._fast is None:
            nothing: list[str | PhoneProblem | None] = [None] * len(raws)
            return self._cached(raws, range(len(raws)), nothing)
        # A fast answer of an allowed type in an allowed region is final; anything else (not
        # a regular shape, or a type/region the filters refuse) gets the full treatment,
        # which words the problem: the fast path agrees with phonenumbers, so the verdict is
        # the same either way, only its cost differs.
        regions_ok = not self._regions or self.region in self._regions
        found = self._fast.digits_many(raws, kinds=self._types if regions_ok else ())
        left = [i for i, answer in enumerate(found) if answer is None]
        answers = cast("list[str | PhoneProblem | None]", found)  # the list is ours to fill
        if not left:
            return cast("list[str | PhoneProblem]", found)
        return self._cached(raws, left, answers)

    def _cached(
        self,
        raws: Sequence[str],
        left: Sequence[int],
        out: list[str | PhoneProblem | None],
    ) -> list[str | PhoneProblem]:
        """``out`` with the values at ``left`` worked out (each distinct one once)."""
        cache = self._cache
        fresh = [raw for raw in dict.fromkeys(raws[i] for i in left) if raw not in cache]
        computed = self._compute_many(fresh)
        got = computed.get
        for i in left:
            raw = raws[i]
            out[i] = got(raw) or cache[raw]  # answers are never falsy
        if len(cache) + len(computed) > self._cache_size:
            cache.clear()  # clearing is cheaper than LRU bookkeeping (see __init__)
        if len(computed) <= self._cache_size:
            cache.update(computed)
        return cast("list[str | PhoneProblem]", out)  # every None was filled

    def _compute_many(self, raws: list[str]) -> dict[str, str | PhoneProblem]:
        """Values the fast path left (or all, without it): each worked out in full."""
        plain = self._numbering.decide_plain if self._numbering is not None else None
        # the invalid numbers of the home country, judged as a column (fastverdict.py); the
        # numpy set-up costs more than a few cells' worth of decide_plain
        column: Sequence[Decision | None] = ()
        if self._verdicts is not None and len(raws) >= _COLUMN_FROM:
            column = self._verdicts.decide(raws)
        out: dict[str, str | PhoneProblem] = {}
        for at, raw in enumerate(raws):
            # a plain cell (digits and `` ().-+``) has none of _compute's problems before the
            # parse, so its decision is the whole verdict
            decision = column[at] if column else None
            if decision is None and plain is not None:
                decision = plain(raw)
            if decision is not None:
                out[raw] = self._decided(decision, raw.strip())
            else:
                out[raw] = self._compute(raw, fast=False)
        return out

    def _compute(self, raw: str, *, fast: bool = True) -> str | PhoneProblem:
        if "\x00" in raw:  # phonenumbers would skip it and call the digits around it
            return PhoneProblem(
                codes.PHONE_INVALID,
                "the phone cell holds a NUL character (\\x00): the export is damaged; fix the cell",
            )
        if fast and self._fast is not None:
            hit = self._fast.lookup(raw)
            if hit is not None:
                return self._admit(*hit)
        text = raw.strip()
        if not text:
            return PhoneProblem(codes.PHONE_MISSING, "the phone cell is empty")
        if _LOSSY.search(text):
            return PhoneProblem(
                codes.PHONE_LOSSY,
                "the phone's digits are lost (scientific notation such as 7,91612E+10, or "
                "masked digits); export the column as text from the CRM",
            )
        parts = []
        if _SEVERAL.search(text) is not None:  # most cells have no separator: skip the split
            parts = [p for p in _SEVERAL.split(text) if _count_digits(p) >= _NUMBERISH_DIGITS]
        if len(parts) > 1:
            if self.config.multiple == "reject":
                return PhoneProblem(
                    codes.PHONE_MULTIPLE,
                    f"the cell holds {len(parts)} numbers; keep one per row, or set "
                    f"phone.multiple: first to call the first one",
                )
            text = parts[0].strip()
        return self._parse(text)

    def _parse(self, text: str) -> str | PhoneProblem:
        # Plain cells are decided on compiled metadata, with phonenumbers' exact verdict and
        # wording (numbering.py); the rest, and the reference (fast=False), by phonenumbers.
        known = self._on_metadata(text)
        if known is not None:
            return known
        try:
            number = phonenumbers.parse(text, self.region)
        except NumberParseException as exc:
            return _parse_problem(exc, text)
        if number.extension and self.config.extensions == "reject":
            return _extension_problem()
        if not phonenumbers.is_valid_number(number):
            reason = phonenumbers.is_possible_number_with_reason(number)
            return self._invalid(number.country_code or 0, reason, text)
        nsn = phonenumbers.national_significant_number(number)
        if not _in_order(nsn, text):
            # phonenumbers reads letters as keypad digits (ABC → 222); we never call digits
            # that are not written in the cell.
            return PhoneProblem(
                codes.PHONE_INVALID,
                "the cell has letters where digits should be; write the number in digits",
            )
        region = phonenumbers.region_code_for_number(number) or ""
        kind = TYPE_NAMES.get(phonenumbers.number_type(number), "unknown")
        return self._admit(f"{number.country_code}{nsn}", region, kind)

    def _on_metadata(self, text: str) -> str | PhoneProblem | None:
        """The verdict decided on compiled metadata (numbering.py), or None: ask phonenumbers."""
        if self._numbering is None:
            return None
        decision = self._numbering.decide(text)
        if decision is not None:
            return self._decided(decision, text)
        if self.config.extensions == "reject":
            # "8 916 123-45-67 доб. 12": phonenumbers cuts the labelled extension off and
            # parses the rest as if alone; when that rest parses (valid or not), the verdict is
            # the extension, decided here instead of by a full parse
            labelled = _LABELLED_EXTENSION.fullmatch(text)
            # (phonenumbers reads the whole cell as a number only with three digits before
            # the label: "12 доб. 5" is no number at all)
            main = labelled["main"] if labelled is not None else ""
            rest = self._numbering.decide(main) if _count_digits(main) >= 3 else None
            if isinstance(rest, Valid | Invalid):
                return _extension_problem()
        return None

    def _decided(self, decision: Decision, text: str) -> str | PhoneProblem:
        if isinstance(decision, Valid):
            return self._admit(decision.digits, decision.region, decision.kind)
        if isinstance(decision, Invalid):
            return self._invalid(decision.country_code, decision.reason, text)
        return _parse_problem(decision, text)

    def _invalid(self, country_code: int, reason: int, text: str) -> PhoneProblem:
        code = _LENGTH_CODES.get(reason, codes.PHONE_INVALID)
        detail = self._details.get((country_code, code))
        if detail is None:  # a few per file: invalid numbers are rows, not kinds of problem
            detail = self._details[country_code, code] = (
                f"{_WHAT.get(code, 'no such number range')} for +{country_code}, read with "
                f"default region {self.region}"
            )
        return PhoneProblem(code, not_valid(text, detail))

    def _admit(self, digits: str, region: str, kind: str) -> str | PhoneProblem:
        if self._regions and region not in self._regions:
            return PhoneProblem(
                codes.PHONE_REGION,
                f"the number belongs to {region or 'no region'}, not to phone.allowed_regions "
                f"({', '.join(sorted(self._regions))})",
            )
        if kind not in self._types:
            return PhoneProblem(
                codes.PHONE_TYPE,
                f"the number is {kind}, not one of phone.allowed_types "
                f"({', '.join(sorted(self._types))})",
            )
        return digits


def _extension_problem() -> PhoneProblem:
    return PhoneProblem(
        codes.PHONE_EXTENSION,
        "the number has an extension the dialer cannot dial; the main line may reach "
        "someone else. Fix the cell, or set phone.extensions: strip",
    )


def _parse_problem(exc: NumberParseException, text: str) -> PhoneProblem:
    code = _PARSE_CODES.get(exc.error_type, codes.PHONE_INVALID)
    return PhoneProblem(code, unparsable(text, exc.error_type))


def _count_digits(text: str) -> int:
    return sum(map(str.isdigit, text))


def _in_order(digits: str, text: str) -> bool:
    """Whether ``digits`` appear in ``text`` in this order (other characters between)."""
    rest = iter(text)
    return all(any(ch == d for ch in rest) for d in digits)
