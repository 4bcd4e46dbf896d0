"""A strict fast path for regular phone shapes, derived from phonenumbers' own metadata.

``phonenumbers.parse`` costs ~25 µs; most CRM cells are plain shapes such as ``+7 916 123-45-67``,
``8 (916) 123-45-67`` or ``9161234567``. For those this module reproduces what phonenumbers
would decide, using the region's metadata compiled once:

* the number type comes from ONE regex: the region's type patterns (with their possible
  lengths) joined as named alternatives in the order ``phonenumbers._number_type_helper`` tries
  them, so the first alternative that matches is the type phonenumbers reports;
* the country code / national prefix are stripped only in the cases where phonenumbers'
  parsing rules cannot choose differently; every doubtful case returns ``None``.

It never *rejects*: ``None`` means "ask phonenumbers", so a gap here costs speed, not
correctness. ``tests/transform/test_fastpath.py`` and ``benchmarks/bench_ingest.py`` compare it
with phonenumbers on every generated value.

Usage::

    fast = FastPath("RU")
    fast.lookup("8 (916) 123-45-67")   # ("79161234567", "RU", "mobile")
    fast.lookup("8 916 123 45 67 доб. 5")  # None: not a regular shape, use phonenumbers
"""

from __future__ import annotations

import re
from collections.abc import Container, Iterable
from typing import Any

import phonenumbers
from phonenumbers.phonemetadata import PhoneMetadata

# phonenumbers.PhoneNumberType values → the names used in the config (phone.allowed_types).
TYPE_NAMES: dict[int, str] = {
    phonenumbers.PhoneNumberType.FIXED_LINE: "fixed_line",
    phonenumbers.PhoneNumberType.MOBILE: "mobile",
    phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE: "fixed_line_or_mobile",
    phonenumbers.PhoneNumberType.TOLL_FREE: "toll_free",
    phonenumbers.PhoneNumberType.PREMIUM_RATE: "premium_rate",
    phonenumbers.PhoneNumberType.SHARED_COST: "shared_cost",
    phonenumbers.PhoneNumberType.VOIP: "voip",
    phonenumbers.PhoneNumberType.PERSONAL_NUMBER: "personal_number",
    phonenumbers.PhoneNumberType.PAGER: "pager",
    phonenumbers.PhoneNumberType.UAN: "uan",
    phonenumbers.PhoneNumberType.VOICEMAIL: "voicemail",
}
# The order of phonenumbers' own type test; the first match wins.
_SPECIAL_TYPES = (
    "premium_rate",
    "toll_free",
    "shared_cost",
    "voip",
    "personal_number",
    "pager",
    "uan",
    "voicemail",
)
# Regular shapes: ASCII digits, spaces, hyphens, dots and parentheses; a '+' only before a
# digit. (phonenumbers drops them all alike; none of them can start an extension.)
_MAX_SHAPE_LENGTH = 64
_MAX_NSN_LENGTH = 17  # phonenumbers' own limit for a national significant number


def _desc_regex(desc: Any, length: int | None = None) -> str | None:
    """A regex for one PhoneNumberDesc, or None when the type has no numbers in the region.

    With ``length``, the regex is for ASCII-digit strings of exactly that length: the length
    test is decided here instead of by a lookahead, and a type with no numbers of that length
    gives None. Without it, the possible lengths become a lookahead.
    """
    if desc is None or not desc.national_number_pattern:
        return None
    lengths = tuple(desc.possible_length or ())
    if lengths:
        real = [n for n in lengths if n > 0]
        if not real:  # phonenumbers writes (-1,) for "no numbers of this type"
            return None
        if length is not None:
            return f"(?:{desc.national_number_pattern})" if length in real else None
        ahead = "|".join(rf"[0-9]{{{n}}}" for n in real)
        return rf"(?=(?:{ahead})\Z)(?:{desc.national_number_pattern})"
    return f"(?:{desc.national_number_pattern})"


def type_regex(meta: Any, length: int | None = None) -> re.Pattern[str] | None:
    """Compile the region's type patterns into one regex whose ``lastgroup`` is the type name.

    ``length``: a smaller, faster regex valid only for digit strings of that length (None when
    no number of the region has it); see :func:`_desc_regex`.
    """
    general = _desc_regex(meta.general_desc, length)
    if general is None:
        return None
    alternatives = []
    for name in _SPECIAL_TYPES:
        pattern = _desc_regex(getattr(meta, name), length)
        if pattern is not None:
            alternatives.append(f"(?P<{name}>{pattern})")
    fixed, mobile = _desc_regex(meta.fixed_line, length), _desc_regex(meta.mobile, length)
    if fixed is not None:
        if meta.same_mobile_and_fixed_line_pattern:
            alternatives.append(f"(?P<fixed_line_or_mobile>{fixed})")
        else:
            if mobile is not None:
                # fixed first: most numbers are mobiles, and a mobile fails the fixed-line
                # pattern at its first digits, so the mobile pattern runs once, not twice
                alternatives.append(rf"(?P<fixed_line_or_mobile>(?=(?:{fixed})\Z){mobile})")
            alternatives.append(f"(?P<fixed_line>{fixed})")
    if mobile is not None and not meta.same_mobile_and_fixed_line_pattern:
        alternatives.append(f"(?P<mobile>{mobile})")
    if not alternatives:
        return None
    return re.compile(rf"(?=(?:{general})\Z)(?:{'|'.join(alternatives)})")


class FastPath:
    """Phonenumbers' verdict for regular shapes of one default region, or ``None``."""

    def __init__(self, region: str) -> None:
        self.region = region
        meta = PhoneMetadata.metadata_for_region(region, None)
        self.country_code = str(meta.country_code) if meta else ""
        regions = phonenumbers.COUNTRY_CODE_TO_REGION_CODE.get(int(self.country_code or 0), ())
        self._types = type_regex(meta) if meta else None
        # The fast path stays off where phonenumbers' parsing has rules we do not mirror:
        # a region that is not the first for its country code, or a national prefix that is
        # more than a literal (carrier codes, transform rules).
        national = meta.national_prefix_for_parsing if meta else None
        self.enabled = bool(
            meta
            and self._types is not None
            and regions
            and regions[0] == region
            and meta.national_prefix_transform_rule is None
            and (national is None or national == meta.national_prefix)
            and (national is None or national.isdigit())
        )
        if not self.enabled or meta is None:
            return
        general = meta.general_desc
        self._viable = re.compile((general.national_number_pattern if general else None) or "(?!)")
        self._national_prefix = national or ""
        self._idd = re.compile(meta.international_prefix) if meta.international_prefix else None
        # a literal IDD (810, 00) is tested with startswith: cheaper than a regex call
        self._idd_text = meta.international_prefix if self._idd is not None else None
        if self._idd_text is not None and not self._idd_text.isdigit():
            self._idd_text = None
        self._leading = re.compile(meta.leading_digits) if meta.leading_digits else None
        # One regex per national-number length: no length lookaheads left to run per value.
        # When the country code is shared, the region's leading digits (which decide whether
        # the number is ours) go in front as a lookahead: one match call instead of two.
        lead = f"(?=(?:{meta.leading_digits}))" if meta.leading_digits else ""
        if "(" in lead[3:].replace("(?", ""):
            lead = ""  # a capturing group could change lastgroup: keep the separate test
        else:
            self._leading = None
        self._types_by_length: dict[int, re.Pattern[str]] = {}
        for length in range(1, _MAX_NSN_LENGTH + 1):
            types = type_regex(meta, length)
            if types is not None:
                self._types_by_length[length] = re.compile(lead + types.pattern)

    def lookup(self, raw: str) -> tuple[str, str, str] | None:
        """``(digits with country code, region, type name)`` when certain, else ``None``."""
        return self.lookup_many([raw])[0]

    def lookup_many(
        self, raws: Iterable[str], *, kinds: Container[str] | None = None
    ) -> list[tuple[str, str, str] | None]:
        """:meth:`lookup` for many values; one loop with everything bound to locals, because
        this runs once per distinct phone cell of the file and call overhead is most of it.

        ``kinds``: answer only for numbers of these types (``None`` for the others too), so
        that a caller filtering by type needs no second pass over the answers.
        """
        if not self.enabled or self._types is None:
            return [None for _ in raws]
        out: list[tuple[str, str, str] | None] = []
        append = out.append
        code, region, prefix = self.country_code, self.region, self._national_prefix
        viable, by_length = self._viable.fullmatch, self._types_by_length
        idd = self._idd.match if self._idd is not None else None
        idd_text = self._idd_text
        leading = self._leading.match if self._leading is not None else None
        for raw in raws:
            text = raw.strip(" \t") if len(raw) <= _MAX_SHAPE_LENGTH else ""
            plus = text[:1] == "+"
            body = text[1:] if plus else text
            # five C-level replaces cost less than one translate() or a shape regex
            digits = body.replace(" ", "").replace("-", "").replace("(", "").replace(")", "")
            digits = digits.replace(".", "")
            if not (digits.isascii() and digits.isdigit()) or (plus and not body[:1].isdigit()):
                append(None)
                continue
            # The national number phonenumbers would read; None when unsure. `viable` is the
            # bare general pattern without lengths: the test phonenumbers applies when it
            # decides whether to strip a country code or a national prefix.
            nsn: str | None = digits
            if plus:
                nsn = digits[len(code) :] if digits.startswith(code) else None
            elif (
                digits.startswith(idd_text)
                if idd_text is not None
                else (idd is not None and idd(digits))
            ):
                nsn = None  # phonenumbers reads a leading international prefix (810…) as IDD
            elif digits.startswith(code):
                # the country code goes only when the whole is not itself a national number
                nsn = None if viable(digits) else digits[len(code) :]
            elif prefix and digits.startswith(prefix) and viable(digits):
                # a viable number keeps its leading prefix digit unless the rest is viable too
                nsn = None if viable(digits[len(prefix) :]) else digits
            elif prefix and digits.startswith(prefix):
                nsn = digits[len(prefix) :]
            if (
                not nsn
                or nsn[0] == "0"
                # phonenumbers would strip a national prefix here
                or (prefix and nsn.startswith(prefix) and viable(nsn[len(prefix) :]))
            ):
                append(None)
                continue
            types = by_length.get(len(nsn))
            match = types.fullmatch(nsn) if types is not None else None
            kind = match.lastgroup if match is not None else None
            if kind is None or (kinds is not None and kind not in kinds):
                append(None)
            elif leading is not None and not leading(nsn):
                append(None)  # another region of this country code may own the number
            else:
                append((code + nsn, region, kind))
        return out
