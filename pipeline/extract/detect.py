"""Encoding and delimiter detection for CSV files.

Encoding: a UTF-8 BOM means ``utf-8-sig``; otherwise the first block of the file that holds a
non-ASCII byte decides: valid UTF-8 → ``utf-8``, else ``cp1251`` (Cyrillic cp1251 text is
practically never valid UTF-8). A pure-ASCII file is ``utf-8``.

Delimiter: each candidate ``, ; \\t |`` parses a sample with the real CSV grammar (so quoted
fields holding other delimiters do not count). Candidates that split the header and at least
half of the records into 2+ fields come first; among them (or among all, for a one-column
file) the one whose records most often have the header's number of fields wins, then the one
with more columns, then the order above. When the mapped header names are known
(``header_names``) and exactly one candidate splits one of the first records into cells naming
every mapped column, that one wins: title lines above the header cannot mislead it then.

Usage::

    encoding = detect_encoding(path)                     # "utf-8" | "utf-8-sig" | "cp1251"
    delimiter = sniff_delimiter(sample_text(path, encoding))
"""

from __future__ import annotations

import codecs
import csv
import io
from pathlib import Path

from pipeline.errors import InputFileError
from pipeline.extract.options import DELIMITERS

BLOCK = 1 << 20
SAMPLE_BYTES = 64 * 1024
SAMPLE_RECORDS = 200


def detect_encoding(path: Path) -> str:
    """Pick ``utf-8-sig``, ``utf-8`` or ``cp1251`` for ``path`` (see module docstring)."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    with path.open("rb") as fh:
        if fh.read(3) == codecs.BOM_UTF8:
            return "utf-8-sig"
        fh.seek(0)
        # ASCII blocks prove nothing; the first block with other bytes decides. The
        # incremental decoder keeps a character split across blocks for the next round.
        while block := fh.read(BLOCK):
            try:
                decoder.decode(block, final=False)
            except UnicodeDecodeError:
                return "cp1251"
            if not block.isascii() and not decoder.getstate()[0]:
                return "utf-8"
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return "cp1251"
    return "utf-8"


def locate_decode_error(path: Path, encoding: str) -> tuple[int, int, bytes] | None:
    """Return ``(line, byte offset, bad bytes)`` of the first undecodable byte, or None."""
    decoder = codecs.getincrementaldecoder(encoding)()
    offset = 0
    line = 1
    with path.open("rb") as fh:
        while block := fh.read(BLOCK):
            pending = len(decoder.getstate()[0])
            try:
                decoder.decode(block, final=False)
            except UnicodeDecodeError as exc:
                at = offset - pending + exc.start
                data = decoder.getstate()[0] + block if pending else block
                bad = data[exc.start : exc.end]
                fh.seek(0)
                line = fh.read(at).count(b"\n") + 1
                return line, at, bad
            offset += len(block)
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            fh.seek(0)
            return fh.read().count(b"\n") + 1, offset, b""
    return None


def decode_error(
    path: Path, encoding: str, detected: bool, name: str | None = None
) -> InputFileError:
    """The InputFileError for a file that ``encoding`` cannot decode (with line and bytes);
    ``name`` is how messages call the file (default: its path)."""
    where = locate_decode_error(path, encoding)
    spot = f"line {where[0]} (byte {where[1]}, bytes {where[2]!r})" if where else "near the end"
    how = "detected" if detected else "configured (input.encoding)"
    return InputFileError(
        f"{name or path}: {spot} cannot be decoded as {encoding}, the {how} encoding. The file "
        f"mixes encodings or is not a text CSV: re-save it as UTF-8 (Excel: 'CSV UTF-8'), or set "
        f"input.encoding to the file's real encoding (utf-8, utf-8-sig or cp1251)."
    )


def sample_text(path: Path, encoding: str) -> tuple[str, bool]:
    """The first ~64 KiB of the file as text, cut at a line end; True when it is the whole file."""
    with path.open("rb") as fh:
        data = fh.read(SAMPLE_BYTES + 1)
    whole = len(data) <= SAMPLE_BYTES
    if not whole:
        data = data[: data.rfind(b"\n", 0, SAMPLE_BYTES) + 1] or data[:SAMPLE_BYTES]
    return data.decode(encoding, errors="replace"), whole


def sniff_delimiter(
    text: str, whole: bool = True, header_names: tuple[frozenset[str], ...] = ()
) -> str:
    """Choose the delimiter of CSV ``text`` among ``, ; \\t |`` (see module docstring)."""
    if header_names:
        naming = [d for d in DELIMITERS if _names_header(text, d, header_names)]
        if len(naming) == 1:
            return naming[0]
    best: tuple[bool, float, int, int] | None = None
    choice = DELIMITERS[0]
    for order, delimiter in enumerate(DELIMITERS):
        counts = _field_counts(text, delimiter, whole)
        if not counts:
            continue
        width = counts[0]
        consistency = sum(1 for c in counts if c == width) / len(counts)
        splits = sum(1 for c in counts if c >= 2) / len(counts)
        # A delimiter that splits the header and most records wins over one that never
        # occurs, even when ragged rows make the column counts disagree; among those, the
        # most consistent layout, then the widest, then the order , ; \t |.
        score = (width >= 2 and splits >= 0.5, consistency, width, -order)
        if best is None or score > best:
            best, choice = score, delimiter
    return choice


def _field_counts(text: str, delimiter: str, whole: bool) -> list[int]:
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    counts: list[int] = []
    try:
        for record in reader:
            if not record:
                continue  # an empty line says nothing; ",,," does show the delimiter
            counts.append(len(record))
            if len(counts) >= SAMPLE_RECORDS:
                return counts
    except csv.Error:
        pass  # a sample cut inside a quoted field; judge on what parsed
    if not whole and len(counts) > 1:
        counts.pop()  # the last record of a cut sample may be incomplete
    return counts


def _names_header(text: str, delimiter: str, groups: tuple[frozenset[str], ...]) -> bool:
    """Whether one of the first records of ``text`` split by ``delimiter`` names a header of
    every group (alternatives of one mapped column)."""
    from pipeline.extract.header import SEARCH_ROWS
    from pipeline.records import header_key

    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        for number, record in enumerate(reader):
            if number >= SEARCH_ROWS * 2:
                break
            keys = {header_key(cell) for cell in record}
            if len(record) > 1 and all(keys & group for group in groups):
                return True
    except csv.Error:
        pass
    return False
