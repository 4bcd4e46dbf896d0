"""Extract: read CSV and XLSX files into chunks of text rows with their source row numbers.

Usage::

    from pipeline.extract import ReadOptions, open_table

    with open_table("export.csv", ReadOptions.from_config(cfg.input)) as table:
        table.info          # SourceInfo: header, encoding, delimiter, sheet, header_row
        for chunk in table.chunks():                  # RowChunk, ~chunk_size rows each
            for row, cells in zip(chunk.row_numbers, chunk.rows):
                ...                                   # cells[i] is the text under header[i]

Every failure to read is a :class:`~pipeline.errors.InputFileError` saying what, where and
what to do. The rules (row numbers, blank and ragged rows, cell rendering) are in
``base.py``, ``cells.py`` and README ("Reading files").
"""

from __future__ import annotations

from pathlib import Path

from pipeline.errors import InputFileError
from pipeline.extract.base import Table
from pipeline.extract.options import ReadOptions

CSV_SUFFIXES = (".csv", ".tsv", ".txt")
XLSX_SUFFIXES = (".xlsx", ".xlsm")

__all__ = ["CSV_SUFFIXES", "XLSX_SUFFIXES", "ReadOptions", "Table", "open_table"]


def open_table(path: str | Path, options: ReadOptions | None = None) -> Table:
    """Open ``path`` as a CSV or XLSX table according to its extension."""
    path = Path(path)
    options = options or ReadOptions()
    suffix = path.suffix.lower()
    if suffix not in CSV_SUFFIXES + XLSX_SUFFIXES:
        raise InputFileError(
            f"{path}: unknown file type {suffix or '(no extension)'!r}. Supported: "
            f"{', '.join(CSV_SUFFIXES + XLSX_SUFFIXES)}; save the export as CSV or XLSX."
        )
    try:
        if suffix in XLSX_SUFFIXES:
            from pipeline.extract.xlsx_reader import XlsxTable

            return XlsxTable(path, options)
        from pipeline.extract.csv_reader import CsvTable

        return CsvTable(path, options)
    except FileNotFoundError:
        raise InputFileError(
            f"{path}: file not found. Check the path (relative paths start from {Path.cwd()})."
        ) from None
    except IsADirectoryError:
        raise InputFileError(f"{path}: is a directory; pass the export file itself.") from None
    except PermissionError:
        raise InputFileError(
            f"{path}: permission denied; make the file readable by this user."
        ) from None
    except OSError as exc:
        raise InputFileError(f"{path}: cannot read the file: {exc.strerror or exc}.") from None
