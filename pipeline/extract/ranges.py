"""A CSV file cut into byte ranges at record boundaries, so that processes can read it in parts.

:func:`plan_ranges` finds the cut points. A cut must fall where the CSV grammar is at the
start of a record, which a plain "next line end" cannot promise when quoted fields hold line
breaks, so the bytes from the header on are followed through the quoting rules of the csv
module (strict mode): a double quote opens a quoted field only at the start of a field; inside
one, ``""`` is a quote and a single ``"`` closes it; elsewhere it is a literal character. Only
the quotes are visited (``bytes.find``), so a quote-free file costs one scan at memory speed.
A cut also lands after a non-blank record: the reader drops blank records only at the end of
the file, so a part must never end on one. Files with a bare carriage return (old Mac line
ends) before the last cut are not cut at all.

:func:`read_range` yields one range's records as column chunks numbered from 1; whoever merges
the parts adds the number of records of the parts before it. Ranges are decoded by
:class:`~pipeline.extract.text.TextBlocks`, like the whole file.

Usage::

    ranges = plan_ranges(path, table.info, table.data_line, parts=2)   # None: read serially
    for part in ranges:
        for first_row, columns, extra in read_range(path, table.info, part):
            ...                      # columns[c][i]: header column c of row first_row + i
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import pairwise
from pathlib import Path
from typing import BinaryIO

import numpy as np
import numpy.typing as npt

from pipeline.extract.blocks import CsvBlocks
from pipeline.extract.options import Limits
from pipeline.extract.text import TextBlocks
from pipeline.records import SourceInfo

SCAN_BYTES = 1 << 22  # bytes per read while planning


@dataclass(frozen=True, slots=True)
class CsvRange:
    """Bytes ``[start, end)`` of a CSV file: whole records; ``lines_before`` counts the
    physical lines before ``start`` (for error messages); ``last`` marks the file's end."""

    start: int
    end: int
    lines_before: int
    last: bool


ColumnChunk = tuple[int, list[list[str]], dict[int, list[str]]]


def plan_ranges(
    path: Path, info: SourceInfo, data_line: int, parts: int, *, first_share: float | None = None
) -> list[CsvRange] | None:
    """Cut the data records of ``path`` (after the header, which ends on physical line
    ``data_line``) into up to ``parts`` ranges of similar size; ``None`` when it cannot be
    cut (no data, or line ends the cut cannot follow). ``parts=1`` gives the whole data as
    one range: one process then reads it column by column like the parallel readers.

    ``first_share``: the first range's share of the bytes (the others split the rest
    evenly), for a first range read by a process that has other work besides."""
    delimiter = (info.delimiter or ",").encode("ascii")
    size = path.stat().st_size
    with path.open("rb") as fh:
        start = _skip_lines(fh, data_line)
        if start is None or start >= size:
            return None
        if parts < 2:  # one part: no cut to find, so no line end it depends on
            return [CsvRange(start, size, data_line, last=True)]
        span = size - start
        first = span // parts if first_share is None else int(span * first_share)
        rest = span - first
        targets = [start + first + rest * k // (parts - 1) for k in range(parts - 1)]
        cuts = _find_cuts(fh, start, targets, delimiter)
    if cuts is None:
        return None
    lines_at = {start: data_line}
    for cut, lines in cuts:
        if start < cut < size:
            lines_at.setdefault(cut, data_line + lines)
    bounds = [*sorted(lines_at), size]
    if len(bounds) < 3:
        return None
    return [CsvRange(a, b, lines_at[a], last=b == size) for a, b in pairwise(bounds)]


def _skip_lines(fh: BinaryIO, lines: int) -> int | None:
    """Byte offset after the first ``lines`` line ends (``\\n``), or None."""
    fh.seek(0)
    offset = seen = 0
    after_cr = False  # the previous block ended with a CR (its LF may start this one)
    while seen < lines:
        block = fh.read(SCAN_BYTES)
        if not block:
            return None
        count = block.count(b"\n")
        if seen + count < lines:
            if _bare_cr(block, after_cr=after_cr, final=False):
                return None  # bare CR line ends: the line count would differ from csv's
            after_cr = block.endswith(b"\r")
            seen += count
            offset += len(block)
            continue
        at = -1
        for _ in range(lines - seen):
            at = block.index(b"\n", at + 1)
        if _bare_cr(block[: at + 1], after_cr=after_cr, final=True):
            return None
        return offset + at + 1
    return offset


_CR, _LF, _QUOTE = ord("\r"), ord("\n"), ord('"')


def _line_ends(block: bytes, end: int) -> int:
    """``block.count(b"\\n", 0, end)``, at several times its speed."""
    return int(np.count_nonzero(np.frombuffer(block, dtype=np.uint8, count=end) == _LF))


def _bare_cr(block: bytes, *, after_cr: bool, final: bool) -> bool:
    """Whether ``block`` holds a CR that is not the start of a CRLF pair. ``after_cr``: the
    bytes before it ended with a CR; unless ``final``, a CR as the last byte is left for the
    next block to judge. (Counted with numpy: bytes.count of a pair, or a replace, cost more
    than the rest of the scan, which runs before any worker starts.)"""
    bare = 0
    if b"\r" in block:
        data = np.frombuffer(block, dtype=np.uint8)
        cr = data == _CR
        bare = int(np.count_nonzero(cr)) - int(np.count_nonzero(cr[:-1] & (data[1:] == _LF)))
    if after_cr and not block.startswith(b"\n"):
        bare += 1
    if not final and block.endswith(b"\r"):
        bare -= 1
    return bare > 0


def _find_cuts(
    fh: BinaryIO, start: int, targets: list[int], delimiter: bytes, *, fast: bool = True
) -> list[tuple[int, int]] | None:
    """For each target offset, the first record boundary at or after it that follows a
    non-blank line, with the number of physical lines before it; None when a bare CR shows
    up before the last cut. Follows the quoting from ``start`` (a record start).

    A block is read by :class:`_QuoteParity` when its quotes allow (``fast``), else by
    :func:`_walk_quotes`; both give the same cuts (tests/extract/test_ranges.py)."""
    fh.seek(start)
    scan = _Scan(list(targets), delimiter, start)
    carry = b""
    while scan.pending:
        data = fh.read(SCAN_BYTES)
        block = carry + data
        if not data and not block:
            break
        final = not data
        # keep the last byte back (unless at the end): a quote there needs the next byte
        usable = len(block) if final else len(block) - 1
        parity = _QuoteParity.of(block, usable, scan) if fast else None
        if parity is not None:
            parity.find(block, usable, scan)
        else:
            usable = _walk_quotes(block, usable, scan)
        # bare CRs end records for csv but not lines for this count: do not cut such files
        # (a CR as the held-back last byte comes again at the front of the next block)
        if _bare_cr(block, after_cr=False, final=final):
            return None
        if not scan.pending or final:
            break
        scan.lines += _line_ends(block, usable)
        scan.prev = block[usable - 1] if usable else scan.prev
        carry = block[usable:]
        scan.base += usable
    return scan.cuts


@dataclass(slots=True)
class _Scan:
    """Where the cut search stands: the targets left, the cuts found, and the state at
    ``base`` (the file offset of the current block's first byte)."""

    pending: list[int]
    delimiter: bytes
    base: int
    lines: int = 0  # line ends before base, counted from the start
    inside: bool = False  # inside a quoted field at base
    prev: int = ord("\n")  # the byte before base
    cuts: list[tuple[int, int]] = field(default_factory=list)

    def boundary(self, block: bytes, nl: int) -> None:
        """The line end ``nl`` (outside quotes, at or after the first target): a cut when
        the line it ends is not blank, else the search goes on after it."""
        line_start = block.rfind(b"\n", 0, nl) + 1
        if line_start > 0 and block[line_start:nl].translate(None, self.delimiter + b'\r"'):
            self.cuts.append((self.base + nl + 1, self.lines + block.count(b"\n", 0, nl + 1)))
            self.pending.pop(0)
        else:
            self.pending[0] = self.base + nl + 1  # a blank line (or one begun earlier): go on


def _walk_quotes(block: bytes, usable: int, scan: _Scan) -> int:
    """Follow the quoting through ``block[:usable]`` quote by quote (csv's rules, see the
    module doc), finding cuts in the unquoted stretches; returns how much of the block was
    used (less than ``usable`` when an escaped quote pair starts at its last byte)."""
    field_starts = {scan.delimiter[0], ord("\n"), ord("\r")}
    pos = 0
    while pos < usable and scan.pending:
        if scan.inside:
            q = block.find(b'"', pos, usable)
            if q < 0:
                return usable
            if q + 1 < len(block) and block[q + 1] == _QUOTE:
                if q + 1 >= usable:  # the pair's second quote is held back: both go on
                    return q
                pos = q + 2  # an escaped quote
            else:
                scan.inside, pos = False, q + 1
            continue
        q = block.find(b'"', pos, usable)
        stop = usable if q < 0 else q
        # record boundaries in the unquoted stretch [pos, stop)
        while scan.pending:
            nl = block.find(b"\n", max(pos, scan.pending[0] - scan.base), stop)
            if nl < 0:
                break
            scan.boundary(block, nl)
        if q < 0:
            return usable
        before = block[q - 1] if q > 0 else scan.prev
        scan.inside = before in field_starts  # a quote opens a field only at its start
        pos = q + 1
    return usable


@dataclass(frozen=True, slots=True)
class _QuoteParity:
    """The quotes of a block where every quote that opens a quoted field by count (the 1st,
    3rd... outside a field) stands where csv reads a quote as opening one: at a field start,
    or right after a closing quote (the two then are an escaped quote). Inside a field csv
    reads every quote as closing or escaped, so whether an offset is inside a quoted field is
    then the parity of the quotes before it, found with numpy in C. A block with a quote
    elsewhere (a literal quote in an unquoted cell) is walked instead. A file that quotes
    every cell has millions of quotes, too many to visit one by one before the workers start.
    """

    quotes: npt.NDArray[np.intp]  # offsets of the quotes in block[:usable]
    inside: bool  # inside a quoted field at the block's start

    @classmethod
    def of(cls, block: bytes, usable: int, scan: _Scan) -> _QuoteParity | None:
        """The parity of ``block[:usable]``, or None when a quote breaks the rule above."""
        if block.find(b'"', 0, usable) < 0:  # most files: no quote at all (memchr speed)
            return cls(np.empty(0, dtype=np.intp), scan.inside)
        data = np.frombuffer(block, dtype=np.uint8)
        quotes = np.flatnonzero(data[:usable] == _QUOTE)
        if len(quotes):
            delimiter = scan.delimiter[0]
            opens = (np.arange(len(quotes)) + scan.inside) % 2 == 0
            before = data[np.maximum(quotes - 1, 0)]
            if quotes[0] == 0:
                before[0] = scan.prev
            # an opening quote right after a closing one: an escaped quote inside a field
            paired = np.zeros(len(quotes), dtype=bool)
            paired[1:] = quotes[1:] - 1 == quotes[:-1]
            paired[0] = quotes[0] == 0 and scan.prev == _QUOTE
            if not (np.isin(before[opens], (delimiter, _LF, _CR)) | paired[opens]).all():
                return None
        return cls(quotes, scan.inside)

    def find(self, block: bytes, usable: int, scan: _Scan) -> None:
        """Cuts at the line ends of ``block[:usable]`` outside quoted fields; moves the
        quoting state on to the end of ``usable``."""
        quotes = self.quotes
        while scan.pending:
            nl = block.find(b"\n", max(0, scan.pending[0] - scan.base), usable)
            if nl < 0:
                break
            if (self.inside + int(np.searchsorted(quotes, nl))) % 2:
                scan.pending[0] = scan.base + nl + 1  # inside a quoted field
                continue
            scan.boundary(block, nl)
        scan.inside = bool((self.inside + len(quotes)) % 2)


def read_range(
    path: Path,
    info: SourceInfo,
    part: CsvRange,
    *,
    detected: bool = True,
    limits: Limits | None = None,
) -> Iterator[ColumnChunk]:
    """The records of ``part`` as ``(first_row, columns, extra)``, rows numbered from 1
    within the part, with the reader's rules (padding, extra cells, trailing blanks) and
    bounds (``limits``). ``detected``: whether the encoding was detected or configured (for
    the error message). Messages call the file ``info.path``."""
    width = len(info.header)
    limits = limits or Limits()
    encoding = info.encoding or "utf-8"
    parser = CsvBlocks(
        path, info.delimiter or ",", lines_before=part.lines_before, limits=limits, name=info.path
    )
    texts = TextBlocks(
        path,
        encoding,
        limits=limits,
        name=info.path,
        detected=detected,
        start=part.start,
        end=part.end,
        lines_before=part.lines_before,
    )
    next_row, held = 1, 0  # held: blank records not yet known to be followed by others
    for text, final in texts:
        columns = parser.columns(text, width, final=final)
        extra: dict[int, list[str]] = {}
        first = next_row + held
        if columns is None:
            rows = parser.records(text, final=final)
            columns = _columns_of(rows, width, first, extra)
        size = len(columns[0])
        keep = size
        while keep and (first + keep - 1) not in extra and not any(c[keep - 1] for c in columns):
            keep -= 1
        trailing = size - keep
        if not keep:
            held += trailing
            continue
        if trailing:
            for column in columns:
                del column[keep:]
        if held:
            columns = [[""] * held + column for column in columns]
        yield next_row, columns, extra
        next_row += len(columns[0])
        held = trailing
    if held and not part.last:
        raise AssertionError("a range ended on blank records")  # plan_ranges never cuts there


def _columns_of(
    rows: list[list[str]], width: int, first: int, extra: dict[int, list[str]]
) -> list[list[str]]:
    """Rows made ``width`` long (padded, tails beyond it kept in ``extra`` when non-empty),
    as columns."""
    for index, row in enumerate(rows):
        if len(row) < width:
            rows[index] = row + [""] * (width - len(row))
        elif len(row) > width:
            tail = row[width:]
            if any(tail):
                extra[first + index] = tail
            rows[index] = row[:width]
    if not rows:
        return [[] for _ in range(width)]
    return [list(column) for column in zip(*rows, strict=True)]
