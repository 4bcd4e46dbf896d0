"""Extract: read CSV and XLSX files into chunks of text rows with their source row numbers.

Usage::

    from pipeline.extract import ReadOptions, check_structure, open_table

    with open_table("export.csv", ReadOptions.from_config(cfg.input)) as table:
        table.info          # SourceInfo: header, encoding, delimiter, sheet, header_row
        for chunk in table.chunks():                  # RowChunk, ~chunk_size rows each
            for row, cells in zip(chunk.row_numbers, chunk.rows):
                ...                                   # cells[i] is the text under header[i]

    info = check_structure(copy, options, name="export.csv")   # the whole file, no rows kept

Every failure to read is a :class:`~pipeline.errors.InputFileError` saying what, where and
what to do; ``name=`` is how those messages call the file (default: its path). The rules (row
numbers, blank and ragged rows, cell rendering, size bounds) are in ``table.py``, ``cells.py``,
``bounds.py`` and docs/configuration.md.
"""

from __future__ import annotations

import logging
from pathlib import Path

from pipeline.errors import InputFileError
from pipeline.extract.options import Limits, ReadOptions
from pipeline.extract.table import Table
from pipeline.records import SourceInfo

CSV_SUFFIXES = (".csv", ".tsv", ".txt")
XLSX_SUFFIXES = (".xlsx", ".xlsm")
# read by python-calamine only; ".gz"/".zip" hold one CSV. The bytes decide the reader
# (sniff.py); a suffix only has to be one of these.
OTHER_SUFFIXES = (".xls", ".xlsb", ".ods", ".gz", ".zip")
SUFFIXES = CSV_SUFFIXES + XLSX_SUFFIXES + OTHER_SUFFIXES
WORKBOOKS = ("xlsx", "xlsb", "ods", "xls")

__all__ = [
    "CSV_SUFFIXES",
    "OTHER_SUFFIXES",
    "SUFFIXES",
    "XLSX_SUFFIXES",
    "Limits",
    "ReadOptions",
    "Table",
    "check_structure",
    "checked_when_opened",
    "is_spreadsheet",
    "open_table",
]


def is_spreadsheet(
    path: str | Path, *, name: str | None = None, limits: Limits | None = None
) -> bool:
    """Whether ``path`` (named ``name``) is read as a workbook rather than CSV (see
    open_table): by its bytes when it can be read, else by its suffix."""
    try:
        return _kind(Path(path), name or str(path), limits or Limits()) in WORKBOOKS
    except (OSError, InputFileError):
        return _suffix(Path(path), name or str(path)) in (*XLSX_SUFFIXES, ".xls", ".xlsb", ".ods")


def _suffix(path: Path, shown: str) -> str:
    suffix = Path(shown).suffix.lower()
    if suffix not in SUFFIXES:
        suffix = path.suffix.lower() or suffix
    return suffix


def _kind(path: Path, shown: str, limits: Limits) -> str:
    """What the bytes say the file is (sniff.py); a text file named .xlsx/.xlsm stays a
    workbook, so that it gets the workbook's "cannot read" message."""
    from pipeline.extract.sniff import sniff

    kind = sniff(path, limits, shown)
    if kind == "text" and _suffix(path, shown) in XLSX_SUFFIXES:
        return "xlsx"
    return kind


def checked_when_opened(table: Table) -> bool:
    """Whether opening ``table`` already met every structural error its reading could meet.

    True for a sheet calamine loaded whole (its errors, and the archive and sheet bounds,
    come when it opens); False for CSV and for openpyxl, which stream: a file read that way
    needs :func:`check_structure` before its first row is used.
    """
    return getattr(table, "engine", None) == "calamine"


def open_table(
    path: str | Path, options: ReadOptions | None = None, *, name: str | None = None
) -> Table:
    """Open ``path`` as a CSV or workbook table, as its bytes say (sniff.py); its suffix (of
    ``name`` when given: a private copy of the file may be named anything) must be one of
    :data:`SUFFIXES`. The reader's decisions (header search, unpacking) are in
    ``table.notes`` and logged once per file on ``pipeline.extract`` (stderr in the CLI)."""
    table = _open(path, options, name)
    for note in table.notes:
        if (str(name or path), note) not in _TOLD:  # opened again to read after its check
            if len(_TOLD) >= 256:
                _TOLD.clear()
            _TOLD.add((str(name or path), note))
            # a guessed header may be wrong: a warning; how the file was unpacked: info
            level = logging.WARNING if note.startswith("header") else logging.INFO
            _log.log(level, "%s: %s", name or path, note)
    return table


_TOLD: set[tuple[str, str]] = set()
_log = logging.getLogger("pipeline.extract")


def _open(path: str | Path, options: ReadOptions | None, name: str | None) -> Table:
    path = Path(path)
    shown = name or str(path)
    options = options or ReadOptions()
    suffix = _suffix(path, shown)
    if suffix not in SUFFIXES:
        raise InputFileError(
            f"{shown}: unknown file type {suffix or '(no extension)'!r}. Supported: "
            f"{', '.join(SUFFIXES)}; save the export as CSV or XLSX."
        )
    try:
        kind = _kind(path, shown, options.limits)
        if kind in WORKBOOKS:
            from pipeline.extract.xlsx_reader import XlsxTable

            return XlsxTable(path, options, name=shown, kind=kind)
        if kind in ("html", "xml2003"):
            what = "a web page" if kind == "html" else "an Excel 2003 XML spreadsheet"
            raise InputFileError(
                f"{shown}: this is {what} saved as {suffix}, not a table this pipeline reads. "
                f"Export it again as CSV or XLSX (or open it in Excel and 'Save As' .xlsx)."
            )
        from pipeline.extract.csv_reader import CsvTable

        if kind == "text":
            return CsvTable(path, options, name=shown)
        return _unwrapped_csv(path, kind, options, shown)
    except FileNotFoundError:
        raise InputFileError(
            f"{shown}: file not found. Check the path (relative paths start from {Path.cwd()})."
        ) from None
    except IsADirectoryError:
        raise InputFileError(f"{shown}: is a directory; pass the export file itself.") from None
    except PermissionError:
        raise InputFileError(
            f"{shown}: permission denied; make the file readable by this user."
        ) from None
    except OSError as exc:
        raise InputFileError(f"{shown}: cannot read the file: {exc.strerror or exc}.") from None


def _unwrapped_csv(path: Path, kind: str, options: ReadOptions, shown: str) -> Table:
    """A gzip/zip/UTF-16 CSV read from its private plain copy (unwrap.py)."""
    from dataclasses import replace

    from pipeline.extract.csv_reader import CsvTable
    from pipeline.extract.unwrap import Unwrapped

    plain = Unwrapped(path, kind, options.limits, shown)
    try:
        assert plain.path is not None
        if plain.encoding is not None:
            options = replace(options, encoding=plain.encoding)  # type: ignore[arg-type]
        table = CsvTable(plain.path, options, name=shown)
    except BaseException:
        plain.close()
        raise
    table.adopt(plain)
    table.notes.append(f"read as CSV from {plain.how}")
    return table


def check_structure(
    path: str | Path, options: ReadOptions | None = None, *, name: str | None = None
) -> SourceInfo:
    """Check the whole file for every structural error its reading would meet, keeping no row.

    Raises the :class:`InputFileError` that reading it whole with :func:`open_table` and
    ``chunks()`` would raise (undecodable bytes, mixed encodings, broken quoting, a header
    problem, a record, cell or sheet beyond ``options.limits``), or returns the
    :class:`SourceInfo` the reader finds. Bad *rows* are not structural: they stay rejects.

    - CSV: every block goes through the reader's own checks; plain blocks (no quote) are only
      split into lines, never into cells (~4M rows/s on a typical export).
    - XLSX: the archive and sheet checks run when the table opens (``xlsx_guard``). calamine
      then loads the sheet whole, so its errors come before any row and nothing else can fail
      later: opening is the whole check. openpyxl streams the sheet and may meet a broken part
      of it at any row, so with openpyxl every row is read (and dropped).
    """
    with open_table(path, options, name=name) as table:
        from pipeline.extract.csv_reader import CsvTable

        if isinstance(table, CsvTable):
            table.check_rest()
        elif table.engine == "openpyxl":
            for _ in table.chunks():
                pass
        return table.info
