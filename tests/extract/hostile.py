"""Builders of hostile and broken input files, small on disk, written by the tests themselves.

A workbook is a ZIP of XML parts; :func:`workbook` writes one from a sheet's ``sheetData``
body (and optional shared strings) with the parts Excel needs. A part may be given as
``Repeat(chunk, times)``: its deflate stream is the compressed chunk repeated (after a full
flush a deflate stream depends on nothing before it), so a 2 GiB part costs a few KB of
work and ~2 MB of disk. ``declare`` lets a part claim a size other than its real one.

Usage::

    workbook(tmp_path / "far.xlsx", '<row r="1">...</row>')
    workbook(tmp_path / "bomb.xlsx", Repeat(b'<row><c t="inlineStr"><is><t>x</t></is></c></row>',
                                            40_000_000))
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass
from pathlib import Path

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
RELS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG = "http://schemas.openxmlformats.org/package/2006/relationships"


@dataclass(frozen=True)
class Repeat:
    """``chunk`` repeated ``times`` times, between ``head`` and ``tail``."""

    chunk: bytes
    times: int
    head: bytes = b""
    tail: bytes = b""


Part = bytes | Repeat


def header_row(*names: str) -> str:
    """Row 1 of a sheet: inline-string cells A1, B1, ..."""
    cells = "".join(
        f'<c r="{chr(65 + i)}1" t="inlineStr"><is><t>{n}</t></is></c>' for i, n in enumerate(names)
    )
    return f'<row r="1">{cells}</row>'


def sheet_xml(body: str | Repeat, dimension: str = "A1:B2") -> Part:
    head = (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<worksheet xmlns="{MAIN}" '
        f'xmlns:r="{RELS}"><dimension ref="{dimension}"/><sheetData>'
    ).encode()
    tail = b"</sheetData></worksheet>"
    if isinstance(body, Repeat):
        return Repeat(body.chunk, body.times, head + body.head, body.tail + tail)
    return head + body.encode() + tail


def workbook(
    path: Path,
    body: str | Repeat,
    *,
    strings: Part | None = None,
    dimension: str = "A1:B2",
    declare: dict[str, int] | None = None,
) -> Path:
    """A one-sheet workbook whose sheetData is ``body``; ``strings`` is sharedStrings.xml."""
    rels = (
        f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{PKG}">'
        f'<Relationship Id="rId1" Type="{RELS}/worksheet" Target="worksheets/sheet1.xml"/>'
        + (
            f'<Relationship Id="rId2" Type="{RELS}/sharedStrings" Target="sharedStrings.xml"/>'
            if strings is not None
            else ""
        )
        + "</Relationships>"
    )
    types = (
        '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/'
        'package/2006/content-types"><Default Extension="rels" ContentType="application/'
        'vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType='
        '"application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/'
        'vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName='
        '"/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument'
        '.spreadsheetml.worksheet+xml"/>'
        + (
            '<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.'
            'openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
            if strings is not None
            else ""
        )
        + "</Types>"
    )
    parts: dict[str, Part] = {
        "[Content_Types].xml": types.encode(),
        "_rels/.rels": (
            f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{PKG}"><Relationship '
            f'Id="rId1" Type="{RELS}/officeDocument" Target="xl/workbook.xml"/></Relationships>'
        ).encode(),
        "xl/workbook.xml": (
            f'<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="{MAIN}" xmlns:r="{RELS}">'
            f'<sheets><sheet name="Data" sheetId="1" r:id="rId1"/></sheets></workbook>'
        ).encode(),
        "xl/_rels/workbook.xml.rels": rels.encode(),
        "xl/worksheets/sheet1.xml": sheet_xml(body, dimension),
    }
    if strings is not None:
        parts["xl/sharedStrings.xml"] = strings
    return write_zip(path, parts, declare or {})


def write_zip(path: Path, parts: dict[str, Part], declare: dict[str, int]) -> Path:
    """A ZIP archive of ``parts`` (deflated); ``declare`` overrides a part's declared size."""
    directory = b""
    with path.open("wb") as out:
        for name, part in parts.items():
            data, size, crc = _deflate(part)
            size = declare.get(name, size)
            raw = name.encode()
            offset = out.tell()
            fixed = struct.pack("<HHHHHIII", 20, 0, 8, 0, 0x21, crc, len(data), size)
            out.write(b"PK\x03\x04" + fixed + struct.pack("<HH", len(raw), 0) + raw)
            out.write(data)
            directory += (
                b"PK\x01\x02"
                + struct.pack("<HHHHHHIII", 20, 20, 0, 8, 0, 0x21, crc, len(data), size)
                + struct.pack("<HHHHHII", len(raw), 0, 0, 0, 0, 0, offset)
                + raw
            )
        start = out.tell()
        out.write(directory)
        count = len(parts)
        out.write(
            b"PK\x05\x06" + struct.pack("<HHHHIIH", 0, 0, count, count, len(directory), start, 0)
        )
    return path


def _deflate(part: Part) -> tuple[bytes, int, int]:
    """``(deflate stream, inflated size, crc32)`` of a part."""
    if isinstance(part, bytes):
        packer = zlib.compressobj(9, zlib.DEFLATED, -15)
        return packer.compress(part) + packer.flush(), len(part), zlib.crc32(part)
    packer = zlib.compressobj(9, zlib.DEFLATED, -15)
    head = packer.compress(part.head) + packer.flush(zlib.Z_FULL_FLUSH)
    packer = zlib.compressobj(9, zlib.DEFLATED, -15)
    piece = packer.compress(part.chunk) + packer.flush(zlib.Z_FULL_FLUSH)
    packer = zlib.compressobj(9, zlib.DEFLATED, -15)
    tail = packer.compress(part.tail) + packer.flush()
    crc = zlib.crc32(part.head)
    for _ in range(part.times):
        crc = zlib.crc32(part.chunk, crc)
    crc = zlib.crc32(part.tail, crc)
    size = len(part.head) + len(part.chunk) * part.times + len(part.tail)
    return head + piece * part.times + tail, size, crc
