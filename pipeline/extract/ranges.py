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
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path
from typing import BinaryIO

import numpy as np

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


_CR, _LF = ord("\r"), ord("\n")


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


def _find_cuts(  # noqa: PLR0912, PLR0915 - one state machine reads best in one piece
    fh: BinaryIO, start: int, targets: list[int], delimiter: bytes
) -> list[tuple[int, int]] | None:
    """For each target offset, the first record boundary at or after it that follows a
    non-blank line, with the number of physical lines before it; None when a bare CR shows
    up before the last cut. Follows the quoting from ``start`` (a record start)."""
    fh.seek(start)
    field_starts = {delimiter[0], ord("\n"), ord("\r")}
    blank = delimiter + b'\r"'
    cuts: list[tuple[int, int]] = []
    base = start  # file offset of block[0]
    lines = 0  # line ends before base, counted from start
    inside = False  # inside a quoted field at base
    prev = ord("\n")  # the byte before base
    carry = b""
    pending = list(targets)
    while pending:
        data = fh.read(SCAN_BYTES)
        block = carry + data
        if not data and not block:
            break
        final = not data
        # keep the last byte back (unless at the end): a quote there needs the next byte
        usable = len(block) if final else len(block) - 1
        pos = 0
        while pos < usable and pending:
            if inside:
                q = block.find(b'"', pos, usable)
                if q < 0:
                    pos = usable
                    break
                if q + 1 < len(block) and block[q + 1] == ord('"'):
                    pos = q + 2  # an escaped quote
                else:
                    inside, pos = False, q + 1
                continue
            q = block.find(b'"', pos, usable)
            stop = usable if q < 0 else q
            # record boundaries in the unquoted stretch [pos, stop)
            while pending:
                at = max(pos, pending[0] - base)
                nl = block.find(b"\n", at, stop)
                if nl < 0:
                    break
                line_start = block.rfind(b"\n", 0, nl) + 1
                if line_start > 0 and block[line_start:nl].translate(None, blank):
                    cuts.append((base + nl + 1, lines + block.count(b"\n", 0, nl + 1)))
                    pending.pop(0)
                else:
                    pending[0] = base + nl + 1  # a blank line (or one begun earlier): go on
            if q < 0:
                pos = usable
                break
            before = block[q - 1] if q > 0 else prev
            inside = before in field_starts  # a quote opens a field only at its start
            pos = q + 1
        # bare CRs end records for csv but not lines for this count: do not cut such files
        # (a CR as the held-back last byte is judged with the byte after it, next round)
        # (a CR held back as the last byte comes again at the front of the next block)
        if _bare_cr(block, after_cr=False, final=final):
            return None
        if not pending:
            break
        lines += _line_ends(block, usable)
        prev = block[usable - 1] if usable else prev
        carry = block[usable:]
        base += usable
        if final:
            break
    return cuts


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
