"""Bounds for the workbooks only python-calamine reads: ``.xls``, ``.xlsb`` and ``.ods``.

- ``.xlsb`` and ``.ods`` are ZIP archives: :func:`guard_archive` applies the XLSX archive
  bounds (``input.max_xlsx_members``, ``max_xlsx_mb``, ``max_xlsx_ratio``) and inflates every
  part once, refusing one that runs past the size it declares, before calamine opens it.
- every sheet: :func:`check_sheet` holds its used range to ``input.max_columns`` and
  ``input.max_cells`` and each text to ``input.max_cell_chars``, before any row is handed on
  (so opening the table is its whole structural check, as for XLSX through calamine).

Limit: calamine builds the sheet before :func:`check_sheet` can measure it. An ``.xls`` sheet
is at most 65,536 x 256 cells by its format; ``.ods`` (repeated cells) and ``.xlsb`` (sparse
cells) have no such cap, so a crafted one can cost memory before it is refused. Docs say so.

Usage::

    guard_archive(Path("export.ods"), Limits(), name="export.ods")
    check_sheet(sheet, Limits(), name="export.ods")      # a python_calamine CalamineSheet
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pipeline.errors import InputFileError
from pipeline.extract.options import Limits
from pipeline.extract.table import column_name
from pipeline.extract.xlsx_zip import bound_error, inflate, open_archive


def guard_archive(path: Path, limits: Limits, name: str) -> None:
    """Raise InputFileError when the ZIP archive at ``path`` is beyond ``limits``."""
    with open_archive(path, limits, name) as archive:
        for info in archive.infolist():
            for _ in inflate(archive, info, name):
                pass  # only its true size is checked


def check_sheet(sheet: Any, limits: Limits, name: str) -> None:
    """Raise InputFileError when the loaded calamine ``sheet`` is beyond ``limits``."""
    height, width = sheet.height, sheet.width
    label = f"sheet {sheet.name!r}"
    if width > limits.max_columns:
        raise bound_error(
            name, f"{label} spans {width:,} columns", "max_columns", limits.max_columns
        )
    if height * width > limits.max_cells:
        raise bound_error(
            name,
            f"{label} spans {height:,} rows x {width:,} columns = {height * width:,} cells",
            "max_cells",
            limits.max_cells,
        )
    cap = limits.max_cell_chars
    left = (sheet.start or (0, 0))[1]  # iter_rows: from sheet row 1, from the used range's column
    for number, row in enumerate(sheet.iter_rows()):
        if max((len(v) for v in row if v.__class__ is str), default=0) > cap:
            column = next(i for i, v in enumerate(row) if v.__class__ is str and len(v) > cap)
            raise InputFileError(
                f"{name}: {label}, cell {column_name(left + column)}{number + 1} holds "
                f"{len(row[column]):,} characters, more than input.max_cell_chars = {cap:,} "
                f"allows. If the cell is real, raise input.max_cell_chars."
            )
