"""The XLSX/XLSM reader: python-calamine first, openpyxl (read-only, defusedxml) as fallback.

The header is the first sheet row holding any text; the columns run from its first to its last
non-empty cell (calamine reports only the used range, openpyxl every column from A, so cells
left of the header's first named column are not part of the table). Row numbers are the sheet
row minus the header row; trailing fully empty rows are dropped (see ``base.assemble``).
Cell values become text by :func:`pipeline.extract.cells.cell_text`.

calamine loads the chosen sheet's values into memory (an XLSX sheet holds at most 1,048,576
rows); only the text rows handed on are chunked. Before either library sees the file,
:func:`~pipeline.extract.xlsx_guard.guard_workbook` checks the archive and the sheet against
``ReadOptions.limits``, so a crafted workbook ends with a message, not an abort or 2 GB.

Usage::

    with XlsxTable(Path("export.xlsx"), ReadOptions(sheet="Данные")) as table:
        table.info.sheet
        for chunk in table.chunks():
            ...
"""

from __future__ import annotations

from collections.abc import Iterator
from itertools import islice
from pathlib import Path
from typing import Any

from pipeline.errors import InputFileError
from pipeline.extract.calamine_bounds import check_sheet, guard_archive
from pipeline.extract.cells import row_text
from pipeline.extract.header import pick_header
from pipeline.extract.options import Limits, ReadOptions
from pipeline.extract.table import Table, assemble, check_header
from pipeline.extract.xlsx_guard import guard_workbook
from pipeline.extract.xlsx_zip import unreadable
from pipeline.records import RowChunk, SourceInfo


def pick_sheet(path: str | Path, names: list[str], wanted: str | int | None) -> str:
    """The sheet name for ``input.sheet`` (None → first sheet), or an InputFileError."""
    if wanted is None:
        if not names:
            raise InputFileError(f"{path}: the workbook has no sheets.")
        return names[0]
    if isinstance(wanted, int):
        if 0 <= wanted < len(names):
            return names[wanted]
        shown = ", ".join(f"{i}: {n!r}" for i, n in enumerate(names))
        raise InputFileError(
            f"{path}: there is no sheet with index {wanted} (indexes count from 0). The sheets "
            f"are {shown}; set input.sheet to one of these indexes or names."
        )
    if wanted in names:
        return wanted
    folded = [n for n in names if n.strip().casefold() == wanted.strip().casefold()]
    if len(folded) == 1:
        return folded[0]
    raise InputFileError(
        f"{path}: there is no sheet named {wanted!r}. The sheets are "
        f"{', '.join(repr(n) for n in names)}; set input.sheet to one of them (or a 0-based index)."
    )


def _open_calamine(
    path: Path, wanted: str | int | None, shown: str, limits: Limits | None = None
) -> tuple[str, Iterator[Any], Any]:
    from python_calamine import CalamineWorkbook

    workbook = CalamineWorkbook.from_path(str(path))
    try:
        name = pick_sheet(shown, list(workbook.sheet_names), wanted)
        sheet = workbook.get_sheet_by_name(name)
        if limits is not None:  # .xls/.xlsb/.ods: no XML scan ran before calamine opened it
            check_sheet(sheet, limits, shown)
        # iter_rows starts at sheet row 1 (empty leading rows included), columns at the used
        # range's first column; tests/extract compare both engines on such a sheet.
        rows = iter(sheet.iter_rows())
    except BaseException:
        workbook.close()
        raise
    return name, rows, workbook


def _open_openpyxl(
    path: Path, wanted: str | int | None, shown: str
) -> tuple[str, Iterator[Any], Any]:
    import openpyxl

    # openpyxl parses XML with the standard library unless defusedxml is installed; a crafted
    # workbook could then expand entities without bound ("billion laughs"). Refuse instead.
    if not getattr(openpyxl, "DEFUSEDXML", False):
        raise InputFileError(
            f"{shown}: refusing to read with openpyxl because defusedxml is not active (install "
            f"the defusedxml package and do not set OPENPYXL_DEFUSEDXML=False), or install "
            f"python-calamine so openpyxl is not needed."
        )
    # A file object: openpyxl judges a path by its extension, and a private copy may have none.
    handle = path.open("rb")
    try:
        book = openpyxl.load_workbook(handle, read_only=True, data_only=True, keep_links=False)
    except BaseException:
        handle.close()
        raise
    workbook = _Closing(book, handle)
    try:
        name = pick_sheet(shown, list(book.sheetnames), wanted)
        sheet = book[name]
        if not hasattr(sheet, "iter_rows"):
            raise InputFileError(f"{shown}: sheet {name!r} is a chart, not a table of cells.")
        # The declared <dimension> would pad every row to its width, and a file can declare
        # XFD1048576; rows as long as their own cells are what the reader needs.
        sheet.reset_dimensions()
        rows = sheet.iter_rows(values_only=True)
    except BaseException:
        workbook.close()
        raise
    return name, rows, workbook


class _Closing:
    """An openpyxl workbook and the file it reads, closed together."""

    def __init__(self, book: Any, handle: Any) -> None:
        self.book, self.handle = book, handle

    def close(self) -> None:
        try:
            self.book.close()
        finally:
            self.handle.close()


class XlsxTable(Table):
    """An open workbook, one sheet of it: ``kind`` "xlsx" (.xlsx/.xlsm), or "xls", "xlsb",
    "ods", which only calamine reads (``input.xlsx_engine`` does not apply to them)."""

    def __init__(
        self, path: Path, options: ReadOptions, name: str | None = None, kind: str = "xlsx"
    ) -> None:
        self._path = path
        self.name = name or str(path)
        self._options = options
        self.notes: list[str] = []
        if kind == "xlsx":
            guard_workbook(path, options.sheet, options.limits, self.name)
            self.engine, sheet, self._rows, self._book = self._open(path, options, self.name)
        else:
            if kind != "xls":
                guard_archive(path, options.limits, self.name)
            try:
                sheet, self._rows, self._book = _open_calamine(
                    path, options.sheet, self.name, options.limits
                )
            except InputFileError:
                raise
            except Exception as exc:  # calamine's own errors
                raise _unreadable(self.name, exc) from None
            self.engine = "calamine"
        try:
            header, self._first_col, header_row = self._read_header(sheet)
        except BaseException:
            self.close()
            raise
        self.info = SourceInfo(
            path=self.name, format=kind, header=tuple(header), sheet=sheet, header_row=header_row
        )

    @staticmethod
    def _open(path: Path, options: ReadOptions, shown: str) -> tuple[str, str, Iterator[Any], Any]:
        engine = options.xlsx_engine
        first_error: Exception | None = None
        if engine in ("auto", "calamine"):
            try:
                return ("calamine", *_open_calamine(path, options.sheet, shown))
            except InputFileError:
                raise
            except Exception as exc:  # calamine's own errors, or the package is missing
                if engine == "calamine":
                    raise _unreadable(shown, exc) from None
                first_error = exc
        try:
            return ("openpyxl", *_open_openpyxl(path, options.sheet, shown))
        except InputFileError:
            raise
        except Exception as exc:  # zipfile/XML/KeyError: openpyxl has no common base
            raise _unreadable(shown, first_error or exc) from None

    def _read_header(self, sheet: str) -> tuple[list[str], int, int]:
        numbered = ((n, row_text(raw)) for n, raw in enumerate(self._rows, start=1))
        found = pick_header(numbered, self._options, what="row", name=self.name)
        if found is None:
            raise InputFileError(
                f"{self.name}: sheet {sheet!r} is empty. Point input.sheet at the sheet with "
                f"the data (a name or a 0-based index)."
            )
        if found.note:
            self.notes.append(found.note)
        cells, number = found.cells, found.number
        filled = [i for i, cell in enumerate(cells) if cell.strip()]
        first, last = filled[0], filled[-1]
        header = [cell.replace("\ufeff", "") for cell in cells[first : last + 1]]
        check_header(self.name, header, f"sheet {sheet!r}, header on row {number}")
        self._rest = [row[first:] for row in found.rest]  # rows read past the header
        return header, first, number

    def chunks(self) -> Iterator[RowChunk]:
        self._start()
        size, first, rows = self._options.chunk_size, self._first_col, self._rows

        def batches() -> Iterator[list[list[str]]]:
            while True:
                try:
                    raw = list(islice(rows, size))
                except Exception as exc:
                    raise _unreadable(self.name, exc) from None
                if self._rest:  # rows read while looking for the header come first
                    head, self._rest = self._rest, []
                    yield head
                if not raw:
                    return
                # most sheets start at column A: no copy of each row just to cut nothing off
                yield [row_text(row[first:]) for row in raw] if first else list(map(row_text, raw))

        yield from assemble(batches(), len(self.info.header))

    def close(self) -> None:
        book, self._book = self._book, None
        if book is not None:
            book.close()


def _unreadable(name: str, exc: BaseException) -> InputFileError:
    return unreadable(name, f"{type(exc).__name__}: {exc}")
