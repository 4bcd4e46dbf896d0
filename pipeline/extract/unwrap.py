"""A CSV export that is compressed or UTF-16, turned into a private plain UTF-8 copy.

The CSV reader works on bytes split at ``\\n``, which is only sound for UTF-8 or cp1251 text.
So a ``.csv.gz``, a ``.zip`` holding one CSV, and Excel's "Unicode text" (UTF-16 with a BOM,
tab-separated) are first streamed into a file under ``TMPDIR`` (mode 0600, removed when the
table closes); the reader then reads that copy exactly as it reads any CSV, with the same line
numbers. Nested forms are undone in turn (a zipped UTF-16 file).

Hostile input is bounded like a workbook: what a compressed file inflates to counts against
``input.max_xlsx_mb`` and its ratio against ``input.max_xlsx_ratio`` (from 1 MiB of output on);
a ZIP archive goes through :func:`~pipeline.extract.xlsx_zip.open_archive` (entry count,
declared sizes, lying sizes) and must hold exactly one file.

The digest the uploader records stays that of the file as given (the compressed bytes): the
same file gives the same digest.

Usage::

    with Unwrapped(path, kind, limits, name) as plain:   # kind from sniff(): gzip|zip|utf-16
        plain.path, plain.encoding, plain.how            # the copy, "utf-8", "gzip → utf-16"
"""

from __future__ import annotations

import codecs
import os
import tempfile
import zlib
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType

from pipeline.errors import InputFileError
from pipeline.extract.options import Limits
from pipeline.extract.sniff import sniff
from pipeline.extract.xlsx_zip import MIB, RATIO_FROM, bound_error, inflate, open_archive

_READ = 1 << 20
_MAX_DEPTH = 3


class Unwrapped:
    """The plain UTF-8 (or original-encoding) copy of a gzip/zip/UTF-16 CSV; close() removes it."""

    def __init__(self, path: Path, kind: str, limits: Limits, name: str) -> None:
        self.name, self.limits = name, limits
        self.steps: list[str] = []
        self.path: Path | None = None
        self._made: list[Path] = []
        try:
            current = path
            for _ in range(_MAX_DEPTH):
                if kind == "gzip":
                    current = self._write(_gunzip(current, limits, name), ".csv")
                elif kind == "zip":
                    member: list[str] = []
                    current = self._write(_unzip(current, limits, name, member), ".csv")
                    kind = f"zip ({member[0]})"
                elif kind == "utf-16":
                    current = self._write(_utf16(current, name), ".csv")
                else:
                    break
                self.steps.append(kind)
                kind = sniff(current, limits, name)
            else:
                raise InputFileError(f"{name}: archives nested deeper than {_MAX_DEPTH} levels.")
            if kind != "text":
                raise InputFileError(
                    f"{name}: the archive holds a {kind} file, not a CSV. Unpack it and pass "
                    f"that file itself."
                )
            self.path = current
        except BaseException:
            self.close()
            raise
        # A UTF-16 text was written out as UTF-8; anything else keeps its own encoding.
        self.encoding = "utf-8" if "utf-16" in self.steps else None  # None: detect as usual
        self.how = " → ".join(self.steps)

    def _write(self, blocks: Iterator[bytes], suffix: str) -> Path:
        fd, name = tempfile.mkstemp(prefix="jaicp-input-", suffix=suffix)
        target = Path(name)
        self._made.append(target)
        with os.fdopen(fd, "wb") as out:
            for block in blocks:
                out.write(block)
        return target

    def close(self) -> None:
        """Remove every copy made (idempotent)."""
        while self._made:
            self._made.pop().unlink(missing_ok=True)

    def __enter__(self) -> Unwrapped:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def _gunzip(path: Path, limits: Limits, name: str) -> Iterator[bytes]:
    """The members of a gzip file inflated, bounded by max_xlsx_mb and max_xlsx_ratio."""
    cap = limits.max_xlsx_mb * MIB
    total = 0
    read = 0
    with path.open("rb") as fh:
        inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
        data = b""
        while True:
            if not data:
                data = fh.read(_READ)
                read += len(data)
                if not data:
                    break
            try:
                out = inflater.decompress(data, _READ)
            except zlib.error as exc:
                raise _broken(name, f"gzip: {exc}") from None
            data = inflater.unconsumed_tail
            if inflater.eof:  # concatenated gzip members (what `cat a.gz b.gz` makes)
                data = inflater.unused_data
                inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
            total += len(out)
            _check_size(name, total, read, limits, cap)
            if out:
                yield out
        if not inflater.eof and (inflater.unconsumed_tail or read == 0):
            raise _broken(name, "gzip: the file is cut short")


def _check_size(name: str, total: int, read: int, limits: Limits, cap: int) -> None:
    if total > cap:
        raise bound_error(
            name,
            f"it inflates to more than {cap // MIB:,} MiB",
            "max_xlsx_mb",
            limits.max_xlsx_mb,
            " MiB",
        )
    if total >= RATIO_FROM and total / max(read, 1) > limits.max_xlsx_ratio:
        raise bound_error(
            name,
            f"it inflates from {read:,} to {total:,} bytes or more ({total / max(read, 1):,.0f} "
            f"times)",
            "max_xlsx_ratio",
            limits.max_xlsx_ratio,
            " times",
        )


def _unzip(path: Path, limits: Limits, name: str, member: list[str]) -> Iterator[bytes]:
    """The one file of a ZIP archive (folders ignored), bounded like a workbook's parts."""
    with open_archive(path, limits, name) as archive:
        files = [info for info in archive.infolist() if not info.is_dir()]
        if len(files) != 1:
            shown = ", ".join(info.filename for info in files[:5]) or "nothing"
            raise InputFileError(
                f"{name}: the ZIP archive holds {len(files)} files ({shown}); it must hold "
                f"exactly one CSV. Unpack it and pass the CSV itself."
            )
        member.append(files[0].filename)
        yield from inflate(archive, files[0], name)


def _utf16(path: Path, name: str) -> Iterator[bytes]:
    """UTF-16 text (BOM decides the byte order) re-encoded as UTF-8, in blocks."""
    decoder = codecs.getincrementaldecoder("utf-16")()
    with path.open("rb") as fh:
        while True:
            block = fh.read(_READ)
            try:
                text = decoder.decode(block, final=not block)
            except UnicodeDecodeError as exc:
                raise _broken(name, f"UTF-16 text: {exc.reason}") from None
            if text:
                yield text.encode("utf-8")
            if not block:
                return


def _broken(name: str, why: str) -> InputFileError:
    return InputFileError(
        f"{name}: cannot read the file ({why}). It is damaged or cut short: export it again."
    )
