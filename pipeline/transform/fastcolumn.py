"""The fast path's answers for a whole phone column at once, computed with numpy.

:meth:`.fastpath.FastPath.lookup_many` decides one cell at a time: strip the blanks, drop the
separators, read a ``+``, an international prefix, the country code or the national prefix,
then test the national number's type. For a column of a million cells this module takes the
same steps on every cell together: the column becomes one byte array, each cell's digits one
int64, and each regex test (the general pattern, the types of one length, the leading digits,
the international prefix) one ``searchsorted`` in a :class:`.digit_sets.LengthSets` table of
the pattern's numbers of every length. The answers are :meth:`lookup_many`'s, cell for cell
(tests/transform/test_fastpath_bulk.py compares them in every region); cells this module does
not read (a tab, more than 18 digits) are handed to ``lookup_many`` one by one.

Usage (``FastPath`` builds one for its region and calls it from ``digits_many``)::

    column = DigitColumn(meta, "7", "8", idd="810", idd_text="810", leading=None,
                         kind_sets=kind_sets)
    column.digits(["8 (916) 123-45-67", "нет"], frozenset({"mobile"}), lookup)
    # ["79161234567", None]; ``lookup`` judges the cells it does not read
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

import numpy as np
import numpy.typing as npt

from pipeline.transform.digit_sets import DigitSet, Tables, compile_digits

Ints = npt.NDArray[np.int64]
Flags = npt.NDArray[np.bool_]
# lookup_many's answers (the digits, or None) for the cells it is handed
Lookup = Callable[[list[str]], list[str | None]]

_MAX_SHAPE_LENGTH = 64  # lookup_many reads no cell longer than this
_MAX_DIGITS = 18  # an int64 holds 18 digits; longer cells go to lookup_many
_MAX_NSN_LENGTH = 17  # phonenumbers' limit for a national significant number
POWERS = 10 ** np.arange(_MAX_DIGITS + 1, dtype=np.int64)

# byte classes: what lookup_many makes of each character of a cell. The order lets one
# comparison pick digits and line ends (<= _END) and the bytes no shape has (>= _TAB).
_DIGIT, _END, _SPACE, _MARK, _PLUS, _TAB, _OTHER = range(7)
_CLASS = np.full(256, _OTHER, dtype=np.uint8)
_CLASS[ord("0") : ord("9") + 1] = _DIGIT
_CLASS[ord("\n")] = _END
_CLASS[ord(" ")] = _SPACE
_CLASS[[ord(mark) for mark in "-()."]] = _MARK
_CLASS[ord("+")] = _PLUS
_CLASS[ord("\t")] = _TAB


class DigitColumn:
    """One region's fast path over numpy columns; its tables are built on first use."""

    def __init__(
        self,
        meta: Any,
        code: str,
        prefix: str,
        *,
        idd: str | None,
        idd_text: str | None,
        leading: str | None,
        kind_sets: Callable[[Any, int], list[tuple[str, DigitSet]] | None],
    ) -> None:
        general = meta.general_desc.national_number_pattern if meta.general_desc else None
        self._general = general or None
        self._code, self._prefix = code, prefix
        self._idd, self._idd_text, self._leading = idd, idd_text, leading
        self._meta, self._kind_sets = meta, kind_sets
        self.tables = Tables()

    def viable(self, length: int) -> DigitSet:
        """The general pattern (no length test) for numbers of ``length`` digits."""
        return compile_digits(self._general, length) if self._general else DigitSet([])

    def starts_with_idd(self, length: int) -> DigitSet:
        assert self._idd is not None
        return compile_digits(self._idd, length, prefix=True)

    def allowed(self, kinds: frozenset[str], length: int) -> DigitSet:
        """National numbers of ``length`` digits whose type (the first alternative that
        matches, as ``type_regex`` decides) is one of ``kinds``, within the leading digits."""
        found = DigitSet([])
        earlier = DigitSet([])
        for name, numbers in self._kind_sets(self._meta, length) or []:
            if name in kinds:
                found = found | (numbers - earlier)
            earlier = earlier | numbers
        if self._leading and found:
            found = found & compile_digits(self._leading, length, prefix=True)
        return found

    def digits(
        self, raws: Sequence[str], kinds: frozenset[str], lookup: Lookup
    ) -> list[str | None] | None:
        """lookup_many's digits for each cell (None where it has none); None when the column
        has a cell with a line break (the caller judges it value by value)."""
        cells = read_cells(raws, plus_digit=True)
        if cells is None:
            return None
        size, usable = len(raws), cells.usable
        handed = cells.handed | (cells.shaped & (cells.counts > _MAX_DIGITS))
        out: list[str | None] = [None] * size
        if len(cells.chosen):
            found = self._judge(cells.values, cells.counts[usable], cells.plus[usable], kinds)
            hit = cells.chosen[found[0]]
            answers = _texts(self._code, found[1], found[2])
            column = np.full(size, None, dtype=object)
            column[hit] = answers
            out = column.tolist()
        alone = np.flatnonzero(handed).tolist()
        if alone:
            for at, answer in zip(alone, lookup([raws[i] for i in alone]), strict=True):
                out[at] = answer
        return out

    def _judge(
        self, digits: Ints, counts: Ints, plus: Flags, kinds: frozenset[str]
    ) -> tuple[Flags, Ints, Ints]:
        """For cells of ``counts`` digits: which are hits, and their national numbers and
        lengths (lookup_many's branches, each a column operation)."""
        code, prefix = self._code, self._prefix
        nsn, length = digits.copy(), counts.copy()
        ok = np.ones(len(digits), dtype=np.bool_)
        with_code = starts_with(digits, counts, code)
        viable = self.tables.get("viable", self.viable)
        whole_viable = viable.contains(digits, counts)

        def drop(mask: Flags, size: int) -> None:
            shorter = np.maximum(counts - size, 0)
            np.copyto(nsn, digits % POWERS[shorter], where=mask)
            np.copyto(length, shorter, where=mask)

        ok[plus & ~with_code] = False
        drop(plus & with_code, len(code))
        rest = ~plus
        if self._idd_text is not None:
            into = rest & starts_with(digits, counts, self._idd_text)
        elif self._idd is not None:
            into = rest & self.tables.get("idd", self.starts_with_idd).contains(digits, counts)
        else:
            into = np.zeros(len(digits), dtype=np.bool_)
        ok[into] = False
        rest &= ~into
        ok[rest & with_code & whole_viable] = False
        drop(rest & with_code & ~whole_viable, len(code))
        rest &= ~with_code
        if prefix:
            with_prefix = rest & starts_with(digits, counts, prefix)
            # a viable whole keeps its prefix; when the rest is viable too, lookup_many answers
            # None, as the test of every national number below does
            drop(with_prefix & ~whole_viable, len(prefix))
        ok &= (length > 0) & (length <= _MAX_NSN_LENGTH)
        ok &= nsn >= POWERS[np.maximum(length - 1, 0)]  # no leading zero
        if prefix:
            shorter = np.maximum(length - len(prefix), 0)
            again = starts_with(nsn, length, prefix) & viable.contains(
                nsn % POWERS[shorter], shorter
            )
            ok &= ~again
        allowed = self.tables.get(kinds, partial(self.allowed, kinds))
        ok &= allowed.contains(nsn, np.minimum(length, _MAX_DIGITS))
        return ok, nsn[ok], length[ok]


@dataclass(frozen=True, slots=True)
class Cells:
    """A column read as bytes: which cells are shapes of digits, separators (`` -().``) and
    at most a leading '+', and their digits as numbers.

    ``shaped``: such a cell, within 64 characters; ``usable``: shaped with 1 to 18 digits
    (``values`` holds those cells' digits, in the order of ``chosen``, their indices);
    ``handed``: a cell with a tab and otherwise shaped (for the caller to judge alone);
    ``plus``: starts with a '+' as the caller reads one; ``counts``: digits per cell."""

    shaped: Flags
    usable: Flags
    handed: Flags
    plus: Flags
    counts: Ints
    chosen: Ints
    values: Ints


def read_cells(raws: Sequence[str], *, plus_digit: bool) -> Cells | None:
    """Read a column of cells (None when a cell holds a line break). ``plus_digit``: a '+'
    counts only right before a digit (lookup_many), else anywhere first after the blanks."""
    size = len(raws)
    text = "\n".join(raws) + "\n"
    data = np.frombuffer(text.encode("utf-8", "surrogatepass"), dtype=np.uint8)
    kind = _CLASS[data]
    ends = np.flatnonzero(kind == _END)
    if len(ends) != size:
        return None
    starts = np.empty(size, dtype=np.int64)
    starts[0], starts[1:] = 0, ends[:-1] + 1
    fits = ends - starts <= _MAX_SHAPE_LENGTH
    # bytes of no shape are few: their cells are found by position, not by a pass per cell
    odd = np.flatnonzero(kind >= _TAB)
    odd_cells = np.searchsorted(ends, odd)
    other = np.zeros(size, dtype=np.bool_)
    other[odd_cells[kind[odd] == _OTHER]] = True
    tab = np.zeros(size, dtype=np.bool_)
    tab[odd_cells[kind[odd] == _TAB]] = True
    handed = fits & tab & ~other
    shaped = fits & ~tab & ~other
    plus, unread = _plus_cells(raws, kind, starts, ends, plus_digit=plus_digit)
    shaped &= ~unread
    # the digits of every cell, one after another, each cell ended by its line break
    digits = data[kind <= _END]
    digit_ends = np.flatnonzero(digits == ord("\n"))
    counts = np.diff(digit_ends, prepend=-1) - 1
    usable = shaped & (counts > 0) & (counts <= _MAX_DIGITS)
    chosen = np.flatnonzero(usable)
    values = np.zeros(0, dtype=np.int64)
    if len(chosen):
        values = _values(digits, digit_ends, digit_ends[chosen], counts[chosen])
    return Cells(shaped, usable, handed, plus, counts, chosen, values)


def _plus_cells(
    raws: Sequence[str], kind: npt.NDArray[np.uint8], starts: Ints, ends: Ints, *, plus_digit: bool
) -> tuple[Flags, Flags]:
    """The cells that start with a '+' (the first character after the blanks; with
    ``plus_digit``, a digit right after it), and the cells with a '+' not read so (no shape)."""
    plus = np.zeros(len(starts), dtype=np.bool_)
    unread = np.zeros(len(starts), dtype=np.bool_)
    at = np.flatnonzero(kind == _PLUS)
    if not len(at):
        return plus, unread
    line = np.searchsorted(ends, at)
    first = at == starts[line]
    # a '+' after blanks is rare: those blanks are checked cell by cell
    for i in np.flatnonzero(~first & (kind[at - 1] == _SPACE)).tolist():
        cell = int(line[i])
        first[i] = not raws[cell][: int(at[i] - starts[cell])].strip(" ")
    read = first & (kind[at + 1] == _DIGIT) if plus_digit else first
    # a second '+' is never first: its cell is no shape
    unread[line[~read]] = True
    plus[line[read]] = True
    return plus, unread


def starts_with(values: Ints, counts: Ints, head: str) -> Flags:
    """Which ``counts``-digit numbers start with the digits ``head``."""
    size = len(head)
    shift = POWERS[np.maximum(counts - size, 0)]
    found: Flags = (counts >= size) & (values // shift == int(head))
    return found


def _values(digits: npt.NDArray[np.uint8], breaks: Ints, ends: Ints, counts: Ints) -> Ints:
    """Each cell's digits as one int64: the ``counts`` digits before each of ``ends`` (in
    ``digits``, whose line breaks are at ``breaks``)."""
    width = int(counts.max())
    # digit values, every line break as 0 (so no window can overflow), behind `width` zeros
    # so that every window fits
    padded = np.zeros(len(digits) + width, dtype=np.uint8)
    np.subtract(digits, ord("0"), out=padded[width:])
    padded[breaks + width] = 0
    values = np.zeros(len(ends), dtype=np.int64)
    for column in range(width):  # Horner's rule over the last `width` bytes of each cell
        values *= 10
        values += padded[ends + column]
    # the bytes before a cell (the end of the one before it) are cut off
    cut: Ints = values % POWERS[counts]
    return cut


def _texts(code: str, nsn: Ints, lengths: Ints) -> list[str]:
    """The answers: country code and national number, as text."""
    if len(nsn) and int(lengths.max()) + len(code) <= _MAX_DIGITS:
        return list(map(str, (int(code) * POWERS[lengths] + nsn).tolist()))
    return [code + str(number) for number in nsn.tolist()]
