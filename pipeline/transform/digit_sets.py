"""Phone-number patterns compiled into sets of whole numbers, for testing a column at once.

phonenumbers' metadata writes each region's numbers as regexes over ASCII digits (``9\\d{9}``,
``3(?:0[12]|4[1-35-79])\\d{7}``). For digit strings of one length ``n`` such a pattern is a
set of ``n``-digit strings, i.e. of the integers ``0 … 10**n - 1`` (leading zeros kept by the
length): a short sorted list of ranges, because a pattern names a few prefixes followed by
any digits. :class:`DigitSet` holds those ranges and tests a numpy column of numbers against
them with one ``searchsorted``: what ``fullmatch`` decides for one string at a time, for a
million numbers in a few milliseconds.

Only what phonenumbers' patterns are written with is understood (literals, classes, ``\\d``,
bounded and unbounded repeats, alternatives, groups); anything else, or a pattern whose set
would take more than ``limit`` ranges, raises :class:`UncompilableError`, and the caller keeps
the regex.

Usage::

    mobile = compile_digits(r"9\\d{9}", 10)
    mobile.contains(np.array([9161234567, 4951234567]))   # array([ True, False])
    compile_digits(r"810", 3, prefix=True)                # numbers that start with 810
"""

from __future__ import annotations

import functools
import re
import re._constants as sre  # type: ignore[import-not-found]  # the parser re itself uses
import re._parser as sre_parse  # type: ignore[import-not-found]
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

_DIGITS = frozenset(range(10))
_LIMIT = 20_000  # ranges per set; a pattern needing more keeps its regex
_MAX_DIGITS = 18  # every number of up to 18 digits fits an int64
# where each length's band starts in a LengthSets table: 0, 1, 11, 111, …
_BANDS = np.array([(10**n - 1) // 9 for n in range(_MAX_DIGITS + 1)], dtype=np.int64)

Ranges = list[tuple[int, int]]  # sorted, disjoint, half-open [start, end)


class UncompilableError(Exception):
    """The pattern uses a construct this module does not read, or its set is too large."""


class DigitSet:
    """The ``length``-digit strings a pattern accepts, as ranges of integers.

    >>> DigitSet([(10, 20)]).contains(np.array([9, 10, 19, 20]))
    array([False,  True,  True, False])
    """

    def __init__(self, ranges: Ranges) -> None:
        self.ranges = ranges
        self.starts = np.array([start for start, _ in ranges], dtype=np.int64)
        self.ends = np.array([end for _, end in ranges], dtype=np.int64)

    def __bool__(self) -> bool:
        return bool(self.ranges)

    def contains(self, values: npt.NDArray[np.int64]) -> npt.NDArray[np.bool_]:
        """Which ``values`` (numbers of this set's length) are in the set."""
        if not self.ranges:
            return np.zeros(len(values), dtype=np.bool_)
        at = np.searchsorted(self.starts, values, side="right") - 1
        inside: npt.NDArray[np.bool_] = (at >= 0) & (values < self.ends[np.maximum(at, 0)])
        return inside

    def __and__(self, other: DigitSet) -> DigitSet:
        return DigitSet(_intersect(self.ranges, other.ranges))

    def __or__(self, other: DigitSet) -> DigitSet:
        return DigitSet(_union([self.ranges, other.ranges]))

    def __sub__(self, other: DigitSet) -> DigitSet:
        return DigitSet(_subtract(self.ranges, other.ranges))


class LengthSets:
    """One set per length 0 to 18 in one table, for numbers of mixed lengths: a number of
    length ``n`` is looked up as ``number + 11…1`` (``n`` ones), which puts the lengths in
    disjoint bands (``10**n + 11…1`` is the next band's start), so one ``searchsorted``
    tests a whole column.

    >>> nines = LengthSets(lambda n: compile_digits("9\\d*", n))
    >>> nines.contains(np.array([9, 91, 19]), np.array([1, 2, 2]))
    array([ True,  True, False])
    """

    def __init__(self, for_length: Callable[[int], DigitSet]) -> None:
        sets = [for_length(length) for length in range(_MAX_DIGITS + 1)]
        self._starts = np.concatenate([s.starts + _BANDS[n] for n, s in enumerate(sets)])
        self._ends = np.concatenate([s.ends + _BANDS[n] for n, s in enumerate(sets)])

    def contains(
        self, values: npt.NDArray[np.int64], lengths: npt.NDArray[np.int64]
    ) -> npt.NDArray[np.bool_]:
        """Which ``values`` (each of its own length, 0 to 18 digits) are in their set."""
        if not len(self._starts):
            return np.zeros(len(values), dtype=np.bool_)
        keys = values + _BANDS[lengths]
        at = np.searchsorted(self._starts, keys, side="right") - 1
        inside: npt.NDArray[np.bool_] = (at >= 0) & (keys < self._ends[np.maximum(at, 0)])
        return inside


class Tables:
    """:class:`LengthSets` by name, each built on first use (the tests a caller makes)."""

    def __init__(self) -> None:
        self._tables: dict[object, LengthSets] = {}

    def get(self, key: object, for_length: Callable[[int], DigitSet]) -> LengthSets:
        """The table ``key``; built from ``for_length`` the first time it is asked for."""
        if key not in self._tables:
            self._tables[key] = LengthSets(for_length)
        return self._tables[key]


@functools.lru_cache(maxsize=4096)  # the same patterns serve several tests and regions
def compile_digits(
    pattern: str, length: int, *, prefix: bool = False, limit: int = _LIMIT
) -> DigitSet:
    """The ``length``-digit strings ``pattern`` fullmatches (``prefix``: that start with a
    match of it, as ``re.match`` tests). Raises :class:`UncompilableError`."""
    if not 0 <= length <= _MAX_DIGITS:
        raise UncompilableError(f"{length} digits do not fit an int64")
    try:
        parsed = sre_parse.parse(pattern)
    except re.error as exc:  # pragma: no cover - phonenumbers' patterns compile
        raise UncompilableError(str(exc)) from exc
    reader = _Reader(limit)
    items = list(parsed)
    if not prefix:
        return DigitSet(reader.sequence(items, 0, length))
    parts = []
    for head in range(length + 1):
        start = reader.sequence(items, 0, head)
        parts.append(_concat(start, [(0, 10 ** (length - head))], length - head, limit))
    return DigitSet(_union(parts))


class _Reader:
    """The recursive reading of one parsed pattern, remembering each (node, length) asked."""

    def __init__(self, limit: int) -> None:
        self._limit = limit
        self._memo: dict[tuple[int, int, int], Ranges] = {}
        self._widths: dict[tuple[int, bool], tuple[int, int]] = {}
        self._repeats: dict[tuple[int, int], list[Any]] = {}
        self._keep: list[object] = []  # the memos key on id(): keep the keyed objects alive

    def width(self, item: Any, *, sequence: bool = False) -> tuple[int, int]:
        """The least and most characters ``item`` (a sequence of items) can match."""
        key = (id(item), sequence)
        if key not in self._widths:
            self._keep.append(item)
            self._widths[key] = _width(list(item) if sequence else [item])
        return self._widths[key]

    def repeated(self, sub: Any, count: int) -> list[Any]:
        """``count`` copies of ``sub`` as one sequence (the same list each time asked)."""
        key = (id(sub), count)
        if key not in self._repeats:
            self._keep.append(sub)
            self._repeats[key] = list(sub) * count
        return self._repeats[key]

    def sequence(self, items: Sequence[Any], at: int, length: int) -> Ranges:
        """The strings of ``length`` digits that items[at:] match one after another."""
        if at == len(items):
            return [(0, 1)] if length == 0 else []
        key = (id(items), at, length)
        if key not in self._memo:
            self._keep.append(items)
            low, high = self.width(items[at])
            found = []
            for size in range(low, min(high, length) + 1):
                head = self.node(items[at], size)
                if not head:
                    continue
                tail = self.sequence(items, at + 1, length - size)
                if tail:
                    found.append(_concat(head, tail, length - size, self._limit))
            self._memo[key] = _union(found)
        return self._memo[key]

    def node(self, item: Any, length: int) -> Ranges:
        op, arg = item
        if op is sre.LITERAL or op is sre.IN:
            digits = _class_digits(item)
            return _runs(digits) if length == 1 else []
        if op is sre.SUBPATTERN:
            _, add_flags, del_flags, sub = arg
            if add_flags or del_flags:
                raise UncompilableError("inline flags")
            return self.sequence(sub, 0, length)
        if op is sre.BRANCH:
            return _union(self.sequence(sub, 0, length) for sub in arg[1])
        if op is sre.MAX_REPEAT or op is sre.MIN_REPEAT:
            low, high, sub = arg
            single = len(sub) == 1 and sub[0][0] in (sre.LITERAL, sre.IN)
            if single and _class_digits(sub[0]) == _DIGITS:  # \d{n,m}: all of the length
                return [(0, 10**length)] if low <= length <= high else []
            least = self.width(sub, sequence=True)[0]
            if least == 0 and low > length:
                raise UncompilableError("a repeat of what can match nothing")
            # more copies than fit the length add nothing (with an empty-matching body, the
            # copies beyond ``length`` can only match nothing)
            most = length if least == 0 else length // least
            counts = range(low, min(high, most) + 1)
            return _union(self.sequence(self.repeated(sub, count), 0, length) for count in counts)
        raise UncompilableError(f"the pattern uses {op}")


def _class_digits(item: Any) -> frozenset[int]:
    """The ASCII digits one LITERAL or IN item matches."""
    op, arg = item
    if op is sre.LITERAL:
        return frozenset({arg - 48}) & _DIGITS
    found: set[int] = set()
    negate = False
    for kind, value in arg:
        if kind is sre.NEGATE:
            negate = True
        elif kind is sre.LITERAL:
            found.add(value - 48)
        elif kind is sre.RANGE:
            found.update(range(value[0] - 48, value[1] - 47))
        elif kind is sre.CATEGORY and value is sre.CATEGORY_DIGIT:
            found.update(_DIGITS)
        else:
            raise UncompilableError(f"the character class uses {kind} {value}")
    digits = frozenset(found) & _DIGITS
    return _DIGITS - digits if negate else digits


def _width(items: list[Any]) -> tuple[int, int]:
    """The least and most characters a sequence of parsed items can match (at most 18)."""
    low, high = sre_parse.SubPattern(sre_parse.State(), items).getwidth()
    return low, min(high, _MAX_DIGITS)


def _runs(digits: Iterable[int]) -> Ranges:
    """Ranges of one-digit strings: consecutive digits joined."""
    out: Ranges = []
    for digit in sorted(digits):
        if out and out[-1][1] == digit:
            out[-1] = (out[-1][0], digit + 1)
        else:
            out.append((digit, digit + 1))
    return out


def _concat(head: Ranges, tail: Ranges, tail_length: int, limit: int) -> Ranges:
    """Every head string followed by every tail string (of ``tail_length`` digits)."""
    scale = 10**tail_length
    if tail == [(0, scale)]:  # any digits follow: each head range stays one range
        return _union([[(start * scale, end * scale) for start, end in head]])
    count = sum(end - start for start, end in head) * len(tail)
    if count > limit:
        raise UncompilableError(f"more than {limit} ranges")
    out = [
        (first * scale + start, first * scale + end)
        for low, high in head
        for first in range(low, high)
        for start, end in tail
    ]
    return _union([out])


def _union(parts: Iterable[Ranges]) -> Ranges:
    """The sorted, merged union of range lists."""
    merged: Ranges = []
    for start, end in sorted(r for part in parts for r in part):
        if merged and start <= merged[-1][1]:
            if end > merged[-1][1]:
                merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    return merged


def _intersect(left: Ranges, right: Ranges) -> Ranges:
    out: Ranges = []
    i = j = 0
    while i < len(left) and j < len(right):
        start = max(left[i][0], right[j][0])
        end = min(left[i][1], right[j][1])
        if start < end:
            out.append((start, end))
        if left[i][1] < right[j][1]:
            i += 1
        else:
            j += 1
    return out


def _subtract(left: Ranges, right: Ranges) -> Ranges:
    out: Ranges = []
    j = 0
    for first, end in left:
        start = first
        while j < len(right) and right[j][1] <= start:
            j += 1
        k = j
        while k < len(right) and right[k][0] < end:
            if right[k][0] > start:
                out.append((start, right[k][0]))
            start = max(start, right[k][1])
            k += 1
        if start < end:
            out.append((start, end))
    return out
