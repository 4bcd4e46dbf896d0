"""How to read an input file: encoding, delimiter, sheet, chunk size, XLSX engine and limits.

Usage::

    from pipeline.extract import ReadOptions

    ReadOptions()                                   # detect everything, first sheet
    ReadOptions(encoding="cp1251", delimiter=";")   # override detection for a CSV
    ReadOptions(sheet="Данные")                     # or sheet=1 (0-based index)
    ReadOptions(limits=Limits(max_cell_chars=100_000))
    ReadOptions.from_config(cfg.input)              # from the ``input:`` config section
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any, Literal

Encoding = Literal["auto", "utf-8", "utf-8-sig", "cp1251"]
Delimiter = Literal["auto", ",", ";", "\t", "|"]
XlsxEngine = Literal["auto", "calamine", "openpyxl"]

ENCODINGS: tuple[str, ...] = ("utf-8", "utf-8-sig", "cp1251")
DELIMITERS: tuple[str, ...] = (",", ";", "\t", "|")  # also the tie-break order of sniffing
DEFAULT_CHUNK_SIZE = 10_000  # measured: 5-20k rows per chunk read fastest (cache-friendly)


@dataclass(frozen=True, slots=True)
class Limits:
    """Bounds on what one input file may hold, each checked before it costs memory.

    The names are the ``input.*`` settings that raise them (docs/configuration.md); every
    refusal names its setting. The defaults let real CRM exports through: Excel itself stops a
    cell at 32,767 characters; a sheet of 1,048,576 rows x 9 columns fits ``max_cells``.
    """

    max_cell_chars: int = 32_767  # characters in one cell (CSV and XLSX)
    max_columns: int = 1_000  # cells in one CSV record; columns of an XLSX sheet's extent
    max_record_chars: int = 1 << 20  # CSV: characters of one record (its line, or lines)
    # XLSX: rows x columns of the rectangle the sheet's cells span (the spreadsheet library
    # holds all of it in memory: ~32 bytes a cell, so 10M cells ≈ 320 MB)
    max_cells: int = 10_000_000
    max_xlsx_mb: int = 512  # XLSX: uncompressed size of all parts of the archive, MiB
    max_xlsx_ratio: int = 100  # XLSX: compression ratio of a part of 1 MiB or more
    max_xlsx_members: int = 10_000  # XLSX: parts (files) in the archive

    def __post_init__(self) -> None:
        for item in fields(self):
            if getattr(self, item.name) < 1:
                raise ValueError(f"{item.name} must be at least 1")


@dataclass(frozen=True, slots=True)
class ReadOptions:
    """Reader settings; ``"auto"`` means detect from the file."""

    encoding: Encoding = "auto"
    delimiter: Delimiter = "auto"
    sheet: str | int | None = None  # name, 0-based index, or None for the first sheet
    chunk_size: int = DEFAULT_CHUNK_SIZE
    # "auto": python-calamine (fast), openpyxl only if calamine is missing or cannot open it.
    xlsx_engine: XlsxEngine = "auto"
    limits: Limits = field(default_factory=Limits)
    # Title lines above the header (header.py): its line/row (1-based), or lines to skip.
    header_row: int | None = None
    skip_rows: int = 0
    # Header keys the mapping names, one group of alternatives per mapped column (phone
    # first): the header is searched for among the first rows when title lines come first.
    header_names: tuple[frozenset[str], ...] = ()

    def __post_init__(self) -> None:
        if self.encoding != "auto" and self.encoding not in ENCODINGS:
            raise ValueError(f"encoding must be auto or one of {ENCODINGS}, not {self.encoding!r}")
        if self.delimiter != "auto" and self.delimiter not in DELIMITERS:
            raise ValueError(f"delimiter must be auto or one of {DELIMITERS}")
        if self.chunk_size < 1:
            raise ValueError("chunk_size must be at least 1")
        if self.header_row is not None and self.header_row < 1:
            raise ValueError("header_row counts from 1")
        if self.skip_rows < 0:
            raise ValueError("skip_rows must be 0 or more")

    @classmethod
    def from_config(cls, config: Any) -> ReadOptions:
        """Build from a whole ``Config`` (its ``input`` section, and the mapped column names
        for the header search) or from ``Config.input`` alone (no header search)."""
        section = getattr(config, "input", config)
        columns = getattr(config, "columns", None)
        return cls(
            header_row=getattr(section, "header_row", None),
            skip_rows=getattr(section, "skip_rows", 0),
            header_names=mapped_names(columns) if columns is not None else (),
            encoding=section.encoding,
            delimiter=section.delimiter,
            sheet=section.sheet,
            chunk_size=section.chunk_size,
            xlsx_engine=section.xlsx_engine,
            limits=Limits(**{item.name: getattr(section, item.name) for item in fields(Limits)}),
        )


def mapped_names(columns: Any) -> tuple[frozenset[str], ...]:
    """The header keys a ``ColumnsConfig`` maps, one group per column, the phone first."""
    from pipeline.records import header_key

    phone = columns.phone if isinstance(columns.phone, list) else [columns.phone]
    groups = [frozenset(header_key(p) for p in phone)]
    groups += [frozenset({header_key(f.column)}) for f in columns.payload_fields().values()]
    groups += [frozenset({header_key(c)}) for c in columns.policy.values()]
    return tuple(groups)
