"""The ZIP archive of an XLSX workbook, checked before any spreadsheet library opens it.

An XLSX file is a ZIP archive of XML parts. The spreadsheet libraries trust it: a crafted
archive can hold millions of parts, parts that inflate a thousand times their size, or parts
whose real size is not the size they declare. :func:`open_archive` reads the archive's table of
contents only after counting its entries from the end record (so a million entries cost no
memory), and refuses an archive beyond the bounds; :func:`inflate` streams one part and
refuses it the moment it inflates beyond its declared size (so the declared sizes the bounds
were checked on are the true ones).

Usage::

    archive = open_archive(path, limits, name="export.xlsx")   # InputFileError past a bound
    for block in inflate(archive, archive.getinfo("xl/worksheets/sheet1.xml"), name):
        ...
"""

from __future__ import annotations

import struct
import zipfile
import zlib
from collections.abc import Iterator
from pathlib import Path

from pipeline.errors import InputFileError
from pipeline.extract.options import Limits

MIB = 1 << 20
RATIO_FROM = MIB  # a part smaller than this may compress any amount (a few KB of zeros)
OUT_BYTES = 1 << 22  # inflated bytes handed out at a time
_READ = 1 << 20
_EOCD = b"PK\x05\x06"
_EOCD64_LOCATOR = b"PK\x06\x07"
_EOCD64 = b"PK\x06\x06"
_LOCAL = b"PK\x03\x04"
_METHODS = (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED)  # what Excel and every exporter write


def unreadable(name: str, why: str) -> InputFileError:
    """The error for a workbook that cannot be read at all (damaged, not an XLSX)."""
    return InputFileError(
        f"{name}: cannot read the workbook ({why}). It may be damaged, password-protected or "
        f"not really an .xlsx file: open it in Excel and save it again as 'Excel Workbook "
        f"(*.xlsx)' or as 'CSV UTF-8'."
    )


def bound_error(name: str, what: str, setting: str, limit: int, unit: str = "") -> InputFileError:
    """The error for a workbook beyond one of the ``input.*`` bounds."""
    return InputFileError(
        f"{name}: {what}, more than input.{setting} = {limit:,}{unit} allows. A workbook like "
        f"this is usually damaged or crafted: open it in Excel and save it again (or export the "
        f"data as 'CSV UTF-8'); if it really is this big, raise input.{setting}."
    )


def open_archive(path: Path, limits: Limits, name: str) -> zipfile.ZipFile:
    """The archive, once its entry count, part sizes and compression ratios are within
    ``limits``; the caller closes it."""
    entries, directory = _end_record(path, name)
    if entries > limits.max_xlsx_members:
        raise bound_error(
            name,
            f"the archive holds {entries:,} parts",
            "max_xlsx_members",
            limits.max_xlsx_members,
        )
    # a part's entry in the table of contents is ~50 bytes plus its name; 1 KiB is generous
    if directory > max(MIB, limits.max_xlsx_members * 1024):
        raise bound_error(
            name,
            f"the archive's table of contents is {directory:,} bytes",
            "max_xlsx_members",
            limits.max_xlsx_members,
            " parts",
        )
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
        raise unreadable(name, f"{type(exc).__name__}: {exc}") from None
    try:
        _check_parts(archive.infolist(), limits, name)
    except BaseException:
        archive.close()
        raise
    return archive


def _check_parts(infos: list[zipfile.ZipInfo], limits: Limits, name: str) -> None:
    total = 0
    for info in infos:
        if info.flag_bits & 0x1:
            raise unreadable(name, f"part {info.filename} is encrypted")
        if info.compress_type not in _METHODS:
            raise unreadable(
                name,
                f"part {info.filename} uses compression method "
                f"{info.compress_type}, which Excel never writes",
            )
        total += info.file_size
        if info.file_size >= RATIO_FROM:
            ratio = info.file_size / max(info.compress_size, 1)
            if ratio > limits.max_xlsx_ratio:
                raise bound_error(
                    name,
                    f"part {info.filename} inflates from {info.compress_size:,} to "
                    f"{info.file_size:,} bytes ({ratio:,.0f} times)",
                    "max_xlsx_ratio",
                    limits.max_xlsx_ratio,
                    " times",
                )
    if total > limits.max_xlsx_mb * MIB:
        raise bound_error(
            name,
            f"its parts inflate to {total / MIB:,.0f} MiB",
            "max_xlsx_mb",
            limits.max_xlsx_mb,
            " MiB",
        )


def inflate(
    archive: zipfile.ZipFile, info: zipfile.ZipInfo, name: str, size: int = OUT_BYTES
) -> Iterator[bytes]:
    """The bytes of one part, in blocks of at most ``size``; an InputFileError as soon as they
    run past the size the part declares, or when they do not match it at the end."""
    fp = archive.fp
    if fp is None:
        raise ValueError("the archive is closed")
    fp.seek(info.header_offset)
    head = fp.read(30)
    if len(head) < 30 or head[:4] != _LOCAL:
        raise unreadable(name, f"part {info.filename} has no local header")
    skip = struct.unpack("<H", head[26:28])[0] + struct.unpack("<H", head[28:30])[0]
    fp.seek(info.header_offset + 30 + skip)
    left = info.compress_size
    inflater = zlib.decompressobj(-15) if info.compress_type == zipfile.ZIP_DEFLATED else None
    total, crc = 0, 0
    try:
        while left > 0 or (inflater is not None and inflater.unconsumed_tail):
            data = b""
            if left > 0:
                data = fp.read(min(_READ, left))
                if not data:
                    raise unreadable(name, f"part {info.filename} is cut short")
                left -= len(data)
            if inflater is not None:
                data = inflater.decompress(inflater.unconsumed_tail + data, size)
            total += len(data)
            if total > info.file_size:
                raise unreadable(
                    name,
                    f"part {info.filename} inflates beyond the {info.file_size:,} bytes it "
                    f"declares",
                )
            crc = zlib.crc32(data, crc)
            if data:
                yield data
    except zlib.error as exc:
        raise unreadable(name, f"part {info.filename}: {exc}") from None
    if total != info.file_size or crc != info.CRC:
        raise unreadable(name, f"part {info.filename} does not match its checksum")


def _end_record(path: Path, name: str) -> tuple[int, int]:
    """``(entries, table-of-contents bytes)`` from the archive's end record."""
    with path.open("rb") as fh:
        size = fh.seek(0, 2)
        start = max(0, size - 22 - 0xFFFF)
        fh.seek(start)
        tail = fh.read()
        at = tail.rfind(_EOCD)
        if at < 0 or len(tail) - at < 22:
            raise unreadable(name, "not a ZIP archive")
        entries, directory = struct.unpack("<HI", tail[at + 10 : at + 16])
        if entries == 0xFFFF or directory == 0xFFFFFFFF:  # ZIP64: the real numbers are larger
            locator = tail[at - 20 : at] if at >= 20 else b""
            if locator[:4] != _EOCD64_LOCATOR:
                raise unreadable(name, "a damaged ZIP64 end record")
            fh.seek(struct.unpack("<Q", locator[8:16])[0])
            record = fh.read(56)
            if record[:4] != _EOCD64 or len(record) < 56:
                raise unreadable(name, "a damaged ZIP64 end record")
            entries, directory = struct.unpack("<QQ", record[32:48])
    return entries, directory
