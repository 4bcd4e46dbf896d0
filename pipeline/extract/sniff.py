"""What an input file really is, judged by its first bytes rather than its name.

Exports are often misnamed: 1C and CRMs save HTML tables or tab-separated text as ``.xls``, a
private copy of a file has no suffix at all, a ``.csv`` may come zipped. The kinds:

- ``xlsx``, ``xlsb``, ``ods``: a ZIP archive (``PK``) holding a workbook, told apart by its
  parts (``[Content_Types].xml`` + ``xl/workbook.xml`` / ``xl/workbook.bin``, ODF ``mimetype``);
  the archive is read through :func:`~pipeline.extract.xlsx_zip.open_archive`, so its bounds
  hold before its table of contents is parsed;
- ``zip``: any other ZIP archive (a zipped CSV export); ``gzip``: ``1F 8B``;
- ``xls``: an OLE compound file (``D0 CF 11 E0``), Excel 97-2003 BIFF8;
- ``html``: a web page saved under a spreadsheet name; ``xml2003``: Excel 2003 "XML
  Spreadsheet"; neither is a table this pipeline reads;
- ``utf-16``: text starting with a UTF-16 byte-order mark (Excel's "Unicode text");
- ``text``: anything else (a CSV/TSV, whatever its name).

Usage::

    kind = sniff(Path("export.xls"), Limits(), name="export.xls")   # "xls", "html", ...
"""

from __future__ import annotations

import codecs
from pathlib import Path

from pipeline.extract.options import Limits
from pipeline.extract.xlsx_zip import inflate, open_archive

OLE = bytes.fromhex("d0cf11e0a1b11ae1")
ODS_MIME = b"application/vnd.oasis.opendocument.spreadsheet"
HEAD = 2048


def sniff(path: Path, limits: Limits, name: str) -> str:  # noqa: PLR0911 - one flat dispatch
    """The kind of ``path`` (module docstring); ``name`` is how errors call it."""
    with path.open("rb") as fh:
        head = fh.read(HEAD)
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        return _zip_kind(path, limits, name)
    if head.startswith(OLE):
        return "xls"
    if head.startswith(b"\x1f\x8b"):
        return "gzip"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    text = head.removeprefix(codecs.BOM_UTF8).lstrip().lower()
    if text.startswith(b"<?xml") and b"urn:schemas-microsoft-com:office:spreadsheet" in text:
        return "xml2003"
    if text.startswith((b"<!doctype html", b"<html", b"<table", b"<meta", b"<head")) or (
        text.startswith(b"<?xml") and b"<html" in text
    ):
        return "html"
    return "text"


def _zip_kind(path: Path, limits: Limits, name: str) -> str:
    with open_archive(path, limits, name) as archive:
        names = set(archive.namelist())
        if "mimetype" in names and archive.getinfo("mimetype").file_size <= 200:
            mime = b"".join(inflate(archive, archive.getinfo("mimetype"), name))[:200]
            if mime.strip().startswith(ODS_MIME):
                return "ods"
        if "xl/workbook.bin" in names:
            return "xlsb"
        if "[Content_Types].xml" in names or "xl/workbook.xml" in names:
            return "xlsx"
    return "zip"
