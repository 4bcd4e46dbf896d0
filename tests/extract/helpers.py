"""Small helpers shared by the extract tests: write files, read a table back fully."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from openpyxl import Workbook

from pipeline.extract import ReadOptions, open_table
from pipeline.records import SourceInfo


def write_bytes(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def write_xlsx(tmp_path: Path, name: str, sheets: dict[str, list[list[Any]]]) -> Path:
    """A workbook with one sheet per entry, rows appended from sheet row 1."""
    wb = Workbook()
    first = True
    for title, rows in sheets.items():
        ws = wb.active if first else wb.create_sheet()
        assert ws is not None
        ws.title = title
        first = False
        for row in rows:
            ws.append(row)
    path = tmp_path / name
    wb.save(path)
    return path


def read_all(
    path: Path, options: ReadOptions | None = None
) -> tuple[SourceInfo, list[tuple[int, list[str]]], dict[int, list[str]]]:
    """Header info, every (row number, cells) pair and the extra cells of a whole file."""
    rows: list[tuple[int, list[str]]] = []
    extra: dict[int, list[str]] = {}
    with open_table(path, options) as table:
        for chunk in table.chunks():
            assert len(chunk.row_numbers) == len(chunk.rows)
            assert all(len(cells) == len(table.info.header) for cells in chunk.rows)
            rows.extend(zip(chunk.row_numbers, chunk.rows, strict=True))
            extra.update(chunk.extra)
        return table.info, rows, extra
