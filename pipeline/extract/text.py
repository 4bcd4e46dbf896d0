"""A byte range of a CSV file as decoded text blocks that end at line ends.

Every reader of a CSV file (the serial reader, a worker's byte range, the structural check)
gets its text here, so they all stop at the same places with the same messages:

- a line still without a line end after ``max_record_chars`` characters stops the read
  before it costs more memory (a 500 MB "line" is never held whole);
- bytes the encoding cannot decode stop it naming the first such line of the file;
- in a file detected as cp1251, a line that is valid UTF-8 with non-ASCII characters stops
  it: the file mixes encodings, and reading that line as cp1251 would send mojibake (each
  Cyrillic letter as two wrong ones) as payload. Real cp1251 text is practically never valid
  UTF-8 (its letters are bytes 0xC0-0xFF, which UTF-8 never puts next to each other); for
  the rare short line that is, ``input.encoding: cp1251`` reads it as cp1251 unchecked.

``"\\n"`` never occurs inside a multi-byte character of UTF-8 or cp1251, so blocks cut at it
decode on their own.

Usage::

    for text, final in TextBlocks(path, "utf-8", limits=Limits(), name="x.csv"):
        ...                            # text ends at a line end unless final
"""

from __future__ import annotations

from collections.abc import Generator
from pathlib import Path

from pipeline.errors import InputFileError
from pipeline.extract.bounds import record_too_long
from pipeline.extract.detect import decode_error
from pipeline.extract.options import Limits

READ_BYTES = 1 << 19  # bytes per read: ~7k rows of a typical export
# Bytes by kind: 2 a UTF-8 lead byte, 1 a continuation byte, 0 anything else. A UTF-8 line
# in cp1251 text shows as "\x02\x01" once translated: one C-level pass finds the candidates.
_KINDS = bytes(2 if 0xC2 <= b <= 0xF4 else 1 if 0x80 <= b <= 0xBF else 0 for b in range(256))
_LEAD_THEN_CONTINUATION = b"\x02\x01"
_CONTINUATION = bytes(range(0x80, 0xC0))


class TextBlocks:
    """The text of bytes ``[start, end)`` of ``path`` in blocks; iterate once."""

    def __init__(
        self,
        path: Path,
        encoding: str,
        *,
        limits: Limits,
        name: str,
        detected: bool = True,
        start: int = 0,
        end: int | None = None,
        lines_before: int = 0,
    ) -> None:
        self.path = path
        self.encoding = encoding
        self.limits = limits
        self.name = name
        self.detected = detected
        self.start = start
        self.end = end
        self.lines = lines_before  # line ends before the text handed out so far

    def __iter__(self) -> Generator[tuple[str, bool], None, None]:
        with self.path.open("rb") as fh:
            fh.seek(self.start)
            left = None if self.end is None else self.end - self.start
            carry = b""
            first = True
            while left is None or left > 0:
                data = fh.read(READ_BYTES if left is None else min(READ_BYTES, left))
                if not data:
                    break
                if left is not None:
                    left -= len(data)
                block = carry + data
                cut = block.rfind(b"\n") + 1
                carry = block[cut:]
                if cut:
                    yield self._decode(block[:cut], first), False
                    first = False
                self._check_carry(carry)
            yield self._decode(carry, first), True

    def _check_carry(self, carry: bytes) -> None:
        """A line without an end yet: stop once it is certainly longer than a record may be."""
        limit = self.limits.max_record_chars
        if len(carry) <= limit:
            return
        # UTF-8 characters are the bytes that are not continuation bytes; cp1251 has one byte
        # a character. Either way the count is exact for a line that decodes at all.
        chars = len(carry)
        if self.encoding.startswith("utf-8"):
            chars -= len(carry) - len(carry.translate(None, _CONTINUATION))
        if chars > limit:
            raise record_too_long(self.name, self.lines + 1, self.limits)

    def _decode(self, data: bytes, first: bool) -> str:
        encoding = self.encoding
        if encoding == "utf-8-sig" and not (first and self.start == 0):
            encoding = "utf-8"  # utf-8-sig strips a BOM only at the very start of the file
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            self._check_mixed(data)  # most cp1251 decode errors are UTF-8 letters: say so
            raise decode_error(self.path, self.encoding, self.detected, self.name) from None
        if not data.isascii():
            self._check_mixed(data)
        self.lines += data.count(b"\n")
        return text

    def _check_mixed(self, data: bytes) -> None:
        # Only a detected cp1251 is second-guessed: input.encoding: cp1251 is the operator's
        # word that such lines are cp1251 (a few short cp1251 words are valid UTF-8).
        if self.encoding == "cp1251" and self.detected:
            at = utf8_line(data)
            if at is not None:
                raise self._mixed(self.lines + data.count(b"\n", 0, at) + 1)

    def _mixed(self, line: int) -> InputFileError:
        return InputFileError(
            f"{self.name}: line {line} is UTF-8 text, but the file was detected as cp1251 "
            f"(earlier lines are not UTF-8): the file mixes encodings, and that line would be "
            f"sent as garbled letters. Re-save the whole file in one encoding (Excel: 'CSV "
            f"UTF-8') and run again; set input.encoding: cp1251 only if the line really is "
            f"cp1251."
        )


def utf8_line(data: bytes) -> int | None:
    """Offset of the first line of ``data`` that is valid UTF-8 holding non-ASCII characters."""
    kinds = data.translate(_KINDS)
    pos = 0
    while (at := kinds.find(_LEAD_THEN_CONTINUATION, pos)) >= 0:
        start = data.rfind(b"\n", 0, at) + 1
        end = data.find(b"\n", at)
        end = len(data) if end < 0 else end
        # two lead bytes in a row (two cp1251 letters) are never UTF-8: no need to decode
        if kinds.find(b"\x02\x02", start, end) >= 0:
            pos = end + 1
            continue
        try:
            data[start:end].decode("utf-8")
        except UnicodeDecodeError:
            pos = end + 1
            continue
        return start
    return None
