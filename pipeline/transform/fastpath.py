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
correctness. A whole column is judged at once by :mod:`.fastcolumn` (numpy) with the same
answers as :meth:`FastPath.lookup_many`. ``tests/transform/test_fastpath.py`` and
``benchmarks/bench_ingest.py`` compare it with phonenumbers on every generated value.

Usage::

    fast = FastPath("RU")
    fast.lookup("8 (916) 123-45-67")   # ("79161234567", "RU", "mobile")
    fast.digits_many(["+7 916 123-45-67", "нет"], kinds={"mobile"})  # ["79161234567", None]
    fast.lookup("8 916 123 45 67 доб. 5")  # None: not a regular shape, use phonenumbers
"""

from __future__ import annotations

import re
from collections.abc import Callable, Container, Iterable, Sequence
from typing import Any

import phonenumbers
from phonenumbers.phonemetadata import PhoneMetadata

from pipeline.transform.digit_sets import DigitSet, UncompilableError, compile_digits
from pipeline.transform.fastcolumn import DigitColumn

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
# A '+' at the start of a cell (after blanks) not followed by a digit: not a regular shape.
_LOOSE_PLUS = re.compile(r"^([ \t]*)\+(?![0-9])", re.MULTILINE)
_EDGE_TABS = re.compile(r"^[ \t]+|[ \t]+$", re.MULTILINE)
# What phonenumbers' number patterns are written with: none of it can match a line break.
_METADATA_CHARS = frozenset("0123456789[]()?:|{},-\\d")


def _desc_regex(desc: Any, length: int | None = None, *, end: str = r"\Z") -> str | None:
    """A regex for one PhoneNumberDesc, or None when the type has no numbers in the region.

    With ``length``, the regex is for ASCII-digit strings of exactly that length: the length
    test is decided here instead of by a lookahead, and a type with no numbers of that length
    gives None. Without it, the possible lengths become a lookahead up to ``end``.
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
        if end == "$":
            # a line of a column (see FastPath.digits_many): the pattern first, as most
            # alternatives fail at their first digits, then the length, up to the line end
            return rf"(?=(?:{desc.national_number_pattern})$)(?:{ahead})"
        return rf"(?=(?:{ahead}){end})(?:{desc.national_number_pattern})"
    return f"(?:{desc.national_number_pattern})"


def type_alternatives(
    meta: Any, length: int | None = None, *, end: str = r"\Z"
) -> tuple[str, list[tuple[str, str]]] | None:
    """The region's general pattern and its ``(type name, pattern)`` alternatives in the order
    ``phonenumbers._number_type_helper`` tries them (the first that matches is the type); None
    when the region has no numbers (of that ``length``). ``end`` anchors the lookaheads."""
    general = _desc_regex(meta.general_desc, length, end=end)
    if general is None:
        return None
    alternatives = []
    for name in _SPECIAL_TYPES:
        pattern = _desc_regex(getattr(meta, name), length, end=end)
        if pattern is not None:
            alternatives.append((name, pattern))
    fixed = _desc_regex(meta.fixed_line, length, end=end)
    mobile = _desc_regex(meta.mobile, length, end=end)
    if fixed is not None:
        if meta.same_mobile_and_fixed_line_pattern:
            alternatives.append(("fixed_line_or_mobile", fixed))
        else:
            if mobile is not None:
                # fixed first: most numbers are mobiles, and a mobile fails the fixed-line
                # pattern at its first digits, so the mobile pattern runs once, not twice
                alternatives.append(("fixed_line_or_mobile", rf"(?=(?:{fixed}){end}){mobile}"))
            alternatives.append(("fixed_line", fixed))
    if mobile is not None and not meta.same_mobile_and_fixed_line_pattern:
        alternatives.append(("mobile", mobile))
    if not alternatives:
        return None
    return general, alternatives


def kind_sets(meta: Any, length: int) -> list[tuple[str, DigitSet]] | None:
    """:func:`type_alternatives` for national numbers of ``length`` digits as digit sets:
    ``(type name, numbers)`` in the order phonenumbers tries them, each within the general
    pattern (:mod:`.fastcolumn` tests a column against them)."""

    def numbers(desc: Any) -> DigitSet | None:
        pattern = _desc_regex(desc, length)
        return None if pattern is None else compile_digits(pattern, length)

    general = numbers(meta.general_desc)
    if general is None:
        return None
    found = []
    for name in _SPECIAL_TYPES:
        special = numbers(getattr(meta, name))
        if special is not None:
            found.append((name, special))
    fixed, mobile = numbers(meta.fixed_line), numbers(meta.mobile)
    same = meta.same_mobile_and_fixed_line_pattern
    if fixed is not None:
        if same:
            found.append(("fixed_line_or_mobile", fixed))
        else:
            if mobile is not None:
                found.append(("fixed_line_or_mobile", fixed & mobile))
            found.append(("fixed_line", fixed))
    if mobile is not None and not same:
        found.append(("mobile", mobile))
    return [(name, general & part) for name, part in found] or None


def type_regex(meta: Any, length: int | None = None) -> re.Pattern[str] | None:
    """Compile the region's type patterns into one regex whose ``lastgroup`` is the type name.

    ``length``: a smaller, faster regex valid only for digit strings of that length (None when
    no number of the region has it); see :func:`_desc_regex`.
    """
    found = type_alternatives(meta, length)
    if found is None:
        return None
    general, alternatives = found
    named = "|".join(f"(?P<{name}>{pattern})" for name, pattern in alternatives)
    return re.compile(rf"(?=(?:{general})\Z)(?:{named})")


def allowed_type_test(
    general: str, alternatives: list[tuple[str, str]], kinds: Container[str], *, end: str
) -> str | None:
    """Lookaheads that pass a national number iff its type (the first alternative matching
    up to ``end``) is one of ``kinds``; each alternative is tried at most once. None: no type
    can pass."""
    rest: str | None = None  # what is left to try after the alternatives already seen
    names = {name for name, _ in alternatives}
    if {"fixed_line_or_mobile", "fixed_line"} <= {kind for kind in names if kind in kinds}:
        # a number of both patterns passes as fixed_line anyway: test the fixed line pattern
        # once (the joint alternative repeats it in front of the mobile one)
        alternatives = [a for a in alternatives if a[0] != "fixed_line_or_mobile"]
    for name, pattern in reversed(alternatives):
        test = f"(?:{pattern}){end}"
        if name in kinds:
            rest = f"(?=(?:{test}))" if rest is None else f"(?:(?={test})|{rest})"
        elif rest is not None:
            rest = f"(?!{test}){rest}"
    if rest is None:
        return None
    return f"(?=(?:{general}){end}){rest}"


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
        self._meta, self._lead = meta, lead
        self._bulk: dict[frozenset[str], re.Pattern[str] | None] = {}
        # the column judged with numpy (fastcolumn.py): not where the leading digits need
        # their own test (as for the one regex), nor once a pattern proved uncompilable
        self._column: DigitColumn | None = None
        if self._leading is None:
            self._column = DigitColumn(
                meta,
                self.country_code,
                self._national_prefix,
                idd=meta.international_prefix if self._idd is not None else None,
                idd_text=self._idd_text,
                leading=meta.leading_digits if lead else None,
                kind_sets=kind_sets,
            )

    def digits_many(self, raws: Sequence[str], *, kinds: Container[str]) -> list[str | None]:
        """The digits :meth:`lookup_many` finds for numbers of ``kinds``, else ``None``: the
        same answers, for a whole column at once.

        The column is judged with numpy (:mod:`.fastcolumn`: each cell's digits one int64,
        each pattern a :class:`.digit_sets.DigitSet`; ~0.45 µs a cell). Where a region's
        patterns cannot be read as digit sets, the column is joined into one text and every
        line judged by one ``findall`` of one regex (:meth:`_bulk_regex`, ~1 µs); only columns
        neither can take whole (a value with a line break) and regions it cannot write as one
        regex go value by value (~2.4 µs).
        """
        if not self.enabled or not raws:
            return [None] * len(raws)
        chosen = frozenset(kind for kind in TYPE_NAMES.values() if kind in kinds)
        if self._column is not None:
            try:
                column = self._column.digits(raws, chosen, self._digits_alone(chosen))
            except UncompilableError:
                self._column = None  # a pattern this reading cannot take: the regex can
            else:
                if column is not None:
                    return column
        if chosen not in self._bulk:
            self._bulk[chosen] = self._bulk_regex(chosen)
        regex = self._bulk[chosen]
        joined = "\n".join(raws)
        if regex is None or joined.count("\n") != len(raws) - 1:
            hits = self.lookup_many(raws, kinds=chosen)
            return [hit[0] if hit is not None else None for hit in hits]
        if max(map(len, raws)) > _MAX_SHAPE_LENGTH:  # lookup_many's limit: such a cell is None
            joined = "\n".join(raw if len(raw) <= _MAX_SHAPE_LENGTH else "" for raw in raws)
        if "+" in joined:
            # lookup_many takes a '+' only right before a digit (after stripped blanks); the
            # separators are dropped below, so such a plus is spoilt first
            joined = _LOOSE_PLUS.sub("\\1!", joined)
        if "\t" in joined:  # lookup_many strips blanks around a cell, and a tab inside is no shape
            joined = _EDGE_TABS.sub("", joined)
        for mark in " -().":
            joined = joined.replace(mark, "")
        # one match per line: the national number of a hit, "" for any other line
        found = regex.findall(joined)
        if len(found) != len(raws):  # cannot happen; never answer out of line
            raise AssertionError(f"{len(found)} lines judged for {len(raws)} values")
        code = self.country_code
        return [code + nsn if nsn else None for nsn in found]

    def _digits_alone(self, kinds: frozenset[str]) -> Callable[[list[str]], list[str | None]]:
        def lookup(raws: list[str]) -> list[str | None]:
            return [
                hit[0] if hit is not None else None for hit in self.lookup_many(raws, kinds=kinds)
            ]

        return lookup

    def _bulk_regex(self, kinds: frozenset[str]) -> re.Pattern[str] | None:
        """One regex over lines of digits (an optional leading '+', separators dropped) whose
        match is exactly :meth:`lookup_many`'s hit of a type in ``kinds``: the same branches
        (plus, IDD, country code, national prefix kept or stripped, none) written as a tree of
        lookaheads in which exactly one branch can apply, then the national number's tests
        (:func:`allowed_type_test`); any other line matches the empty alternative. None: not
        possible here (leading digits that need their own test, patterns that could cross a
        line), so go value by value."""
        if self._leading is not None:
            return None
        found = type_alternatives(self._meta, end="$")
        if found is None:
            return None
        types = allowed_type_test(*found, kinds, end="$")
        if types is None:
            return None
        meta = self._meta
        descs = [meta.general_desc, meta.fixed_line, meta.mobile]
        descs += [getattr(meta, name) for name in _SPECIAL_TYPES]
        if any(not set(d.national_number_pattern or "") <= _METADATA_CHARS for d in descs if d):
            return None  # a pattern that could reach past the end of its line
        general = meta.general_desc.national_number_pattern if meta.general_desc else None
        if not general:
            return None
        code, prefix = re.escape(self.country_code), re.escape(self._national_prefix)
        viable = f"(?:{general})$"
        idd = f"(?!{meta.international_prefix})" if self._idd is not None else ""
        # lookup_many's branches as a tree, each test made once: plus; else (no IDD) the
        # country code unless the whole is viable; else the national prefix, kept when the
        # whole is viable (and the rest is not), stripped when not; else no prefix at all
        plain = f"(?!{code})"
        if prefix:
            kept = f"(?={viable})(?!{prefix}{viable})"
            plain = f"(?!{code})(?:(?={prefix})(?:{kept}|(?!{viable}){prefix})|(?!{prefix}))"
        forms = [rf"\+{code}", f"{idd}(?:(?={code})(?!{viable}){code}|{plain})"]
        nsn = f"(?![0]){f'(?!{prefix}{viable})' if prefix else ''}{self._lead}{types}"
        hit = rf"(?=\+?[0-9]+$)(?:{'|'.join(forms)})(?P<nsn>{nsn}[0-9]+)"
        regex = re.compile(rf"^(?:{hit}|[^\n]*)$", re.MULTILINE)
        return regex if regex.groups == 1 else None  # findall must give the number alone

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
