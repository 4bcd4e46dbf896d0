"""The cell tags of a worksheet part, checked and measured with numpy, a few array passes
per part instead of a regex match per cell.

:func:`cell_box` answers, for a part of a sheet's XML cut before a tag (see
``xlsx_scan._Parts``), what the regex scan it replaces answered: whether every cell tag is in
the common shape ``<c r="LETTERSdigits"`` followed by a space, ``/`` or ``>``, whether no other
``r`` attribute follows white space anywhere (calamine takes the last ``r`` of a tag; only the
first of ``<c`` and ``<row`` is allowed), and the box the cells' refs span (the largest row,
the largest column; empty cells count too). A ref longer than Excel's ``XFD1048576`` (more
than 3 letters or 7 digits) or with a leading zero is not the common shape either: the exact
parser measures it.

The caller (``SheetScan``) sends the part to the exact parser when the answer is None. numpy
leaves the GIL while it works, so this runs beside the thread that inflates the next part.

Usage::

    scratch = Scratch()
    cell_box(b'<row r="2"><c r="B2"><v>1</v></c></row>', scratch)   # (2, 2)
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np
from numpy.typing import NDArray

_LEFT, _RIGHT = 8, 32  # zero bytes around a part: every look behind or ahead stays inside
_WIDTH = 12  # a ref of 10 characters, its closing quote and the byte after it
_MAX_LETTERS, _MAX_DIGITS = 3, 7  # XFD1048576
_CELL = int.from_bytes(b"<c", "little")
_PREFIX = int.from_bytes(b' r="', "little")
_UPPER = 0xDFDFDFDFDFDFDFDF  # clears the bit that makes an ASCII letter lower case
# an r attribute that is not the first of a <c> or <row> tag (the regex the fast path
# replaces; still used when some "=" follows white space, which the vector test cannot see)
_EXTRA_R = re.compile(rb"r(?=\s*=)(?<=\sr)(?<!<c r)(?<!<row r)")


def _table(chars: bytes) -> NDArray[np.bool_]:
    table = np.zeros(256, np.bool_)
    table[list(chars)] = True
    return table


_LETTER = _table(bytes(range(65, 91)) + bytes(range(97, 123)))
_DIGIT = _table(b"0123456789")
_COLUMNS = np.arange(_WIDTH)


class Scratch:
    """A padded copy of the part being scanned, its memory reused from part to part."""

    def __init__(self) -> None:
        self._buffer = np.zeros(0, np.uint8)

    def load(self, part: bytes) -> NDArray[np.uint8]:
        size = len(part) + _LEFT + _RIGHT
        if len(self._buffer) < size:
            self._buffer = np.zeros(size, np.uint8)
        buf = self._buffer[:size]
        buf[:_LEFT] = 0
        buf[_LEFT : _LEFT + len(part)] = np.frombuffer(part, np.uint8)
        buf[_LEFT + len(part) :] = 0
        return buf


def cell_box(part: bytes, scratch: Scratch) -> tuple[int, int] | None:
    """``(rows, columns)`` reached by the refs of the cell tags in ``part`` (0 when it holds
    none), or None when the part is not in the common shape (module docstring)."""
    buf = scratch.load(part)
    if _extra_r(buf, part):
        return None
    tags = _cell_tags(buf)
    if len(tags) == 0:
        return 0, 0
    # each tag must go on with ' r="': four bytes read as one number
    if not bool((_view(buf, "<u4")[tags + 2] == _PREFIX).all()):
        return None
    start = tags + 6  # the ref's first character
    words = _view(buf, "<u8")[start]  # its first 8 bytes, the first one lowest
    quote = _zero_bytes(words ^ _u64(0x22 * _ONES))
    short = quote != 0  # the closing quote is among them (a ref of up to 7 characters)
    boxes = [_short_refs(buf, start[short], words[short], quote[short])]
    if not bool(short.all()):
        boxes.append(_long_refs(buf, start[~short]))
    if any(box is None for box in boxes):
        return None
    return max(box[0] for box in boxes if box), max(box[1] for box in boxes if box)


_ONES = 0x0101010101010101
_HIGH = 0x8080808080808080


def _u64(value: int) -> np.uint64:
    return np.uint64(value & 0xFFFFFFFFFFFFFFFF)


def _view(buf: NDArray[np.uint8], dtype: str) -> NDArray[Any]:
    """``buf`` read as numbers of ``dtype`` starting at every byte (unaligned, overlapping)."""
    size = np.dtype(dtype).itemsize
    return np.ndarray((len(buf) - size + 1,), dtype, buf, 0, (1,))


def _zero_bytes(x: NDArray[np.uint64]) -> NDArray[np.uint64]:
    """The high bit of the lowest zero byte of each word, 0 when none (the classic SWAR test:
    bytes above the lowest zero one may be wrong, so only the lowest is kept)."""
    found = (x - _u64(_ONES)) & ~x & _u64(_HIGH)
    return found & (~found + _u64(1))


def _short_refs(
    buf: NDArray[np.uint8],
    start: NDArray[np.intp],
    words: NDArray[np.uint64],
    quote: NDArray[np.uint64],
) -> tuple[int, int] | None:
    """The box of refs closed by a quote within their first 8 bytes, 8 bytes at a time: each
    byte before the quote must be ASCII, the letters first (1 to 3), then digits."""
    if len(start) == 0:
        return 0, 0
    before = (quote >> _u64(7)) - _u64(1)  # every bit of the bytes before the quote
    high = _u64(_HIGH) & before
    ascii_only = (words & high) == 0
    # x + (0x80 - low) sets a byte's high bit when x >= low (no carry for ASCII bytes)
    digit = (words + _u64(0x50 * _ONES)) & ~(words + _u64(0x46 * _ONES)) & high
    upper = words & _u64(0xDF * _ONES)
    letter = (upper + _u64(0x3F * _ONES)) & ~(upper + _u64(0x25 * _ONES)) & high
    first_digit = digit & (~digit + _u64(1))
    letters = np.bitwise_count(letter).astype(np.int64)
    size = np.bitwise_count(high).astype(np.int64)
    after = buf[start + size + 1]
    shaped = (
        ascii_only
        & (digit != 0)
        & (letter == (_u64(_HIGH) & (first_digit - _u64(1))))
        & ((letter | digit) == high)
        & (letters >= 1)
        & (letters <= _MAX_LETTERS)
        & (buf[start + letters] != ord("0"))  # a leading zero would upset the comparison
        & _tag_end(after)
    )
    if not bool(shaped.all()):
        return None
    # big-endian, the first character highest: among refs as long, the larger number is larger
    ordered = words.byteswap()
    digits = size - letters
    row = _best(ordered << (letters * 8).astype(np.uint64), digits)
    column = _best(ordered & _u64(0xDF * _ONES), letters)
    return _number(buf, start + letters, digits, row), _number(buf, start, letters, column)


def _best(ordered: NDArray[np.uint64], size: NDArray[Any]) -> int:
    """Index of the largest of the numbers written in the top ``size`` bytes of ``ordered``:
    the longest wins, then the largest bytes."""
    key = (size.astype(np.uint64) << _u64(56)) | (ordered >> ((8 - size) * 8).astype(np.uint64))
    return int(np.argmax(key))


def _number(buf: NDArray[np.uint8], start: NDArray[np.intp], size: NDArray[Any], at: int) -> int:
    """The number at ``start[at]``: digits, or column letters (A = 1, AA = 27, any case)."""
    text = bytes(buf[start[at] : start[at] + size[at]])
    if text.isdigit():
        return int(text)
    number = 0
    for ch in text.upper():
        number = number * 26 + ch - 64
    return number


def _long_refs(buf: NDArray[np.uint8], start: NDArray[np.intp]) -> tuple[int, int] | None:
    """The box of refs of 8 to 10 characters (rows past 999,999 or the like), a byte of each
    at a time."""
    windows = np.lib.stride_tricks.as_strided(
        buf, shape=(len(buf) - _WIDTH, _WIDTH), strides=(1, 1), writeable=False
    )[start]
    letters = np.argmin(_LETTER[windows], axis=1)  # the first byte that is not a letter
    after = letters[:, None] <= _COLUMNS
    end = np.argmax(after & ~_DIGIT[windows], axis=1)  # the first non-digit after them
    digits = end - letters
    rows = np.arange(len(start))
    shaped = (
        (letters >= 1)
        & (letters <= _MAX_LETTERS)
        & (digits >= 1)
        & (digits <= _MAX_DIGITS)
        & (windows[rows, np.minimum(letters, _WIDTH - 1)] != ord("0"))
        & (windows[rows, end] == ord('"'))
        & _tag_end(windows[rows, np.minimum(end + 1, _WIDTH - 1)])
    )
    if not bool(shaped.all()):
        return None
    ordered = _view(buf, ">u8")
    row = _best(ordered[start + letters], digits)
    column = _best(ordered[start] & _u64(0xDF * _ONES), letters)
    return _number(buf, start + letters, digits, row), _number(buf, start, letters, column)


def _tag_end(b: NDArray[np.uint8]) -> NDArray[np.bool_]:
    """Bytes that may follow a tag's name or an attribute: white space, ``/`` or ``>``."""
    found: NDArray[np.bool_] = _space(b) | (b == ord("/")) | (b == ord(">"))
    return found


def _space(b: NDArray[np.uint8]) -> NDArray[np.bool_]:
    """What ``\\s`` matches in a bytes regex."""
    found: NDArray[np.bool_] = (b == ord(" ")) | ((b >= 9) & (b <= 13))
    return found


def _cell_tags(buf: NDArray[np.uint8]) -> NDArray[np.intp]:
    """Offsets in ``buf`` of every ``<c`` followed by white space, ``/`` or ``>``."""
    even = len(buf) // 2 * 2
    odd = (len(buf) - 1) // 2 * 2
    found = np.concatenate(
        [
            np.flatnonzero(buf[:even].view("<u2") == _CELL) * 2,
            np.flatnonzero(buf[1 : 1 + odd].view("<u2") == _CELL) * 2 + 1,
        ]
    )
    return found[_tag_end(buf[found + 2])]


def _extra_r(buf: NDArray[np.uint8], part: bytes) -> bool:
    """Whether an ``r`` attribute follows white space anywhere but right after ``<c`` or
    ``<row`` (``_EXTRA_R``), found from the ``=`` signs."""
    equals = np.flatnonzero(buf == ord("="))
    before = buf[equals - 1]
    if bool(_space(before).any()):  # "r =" perhaps: the regex sees through the white space
        return _EXTRA_R.search(part) is not None
    named_r = equals[(before == ord("r")) & _space(buf[equals - 2])]
    space = buf[named_r - 2] == ord(" ")
    in_cell = space & (buf[named_r - 3] == ord("c")) & (buf[named_r - 4] == ord("<"))
    in_row = (
        space
        & (buf[named_r - 3] == ord("w"))
        & (buf[named_r - 4] == ord("o"))
        & (buf[named_r - 5] == ord("r"))
        & (buf[named_r - 6] == ord("<"))
    )
    return not bool((in_cell | in_row).all())
