"""The one place that decides how an output file is written: format, delimiter, BOM.

Every file the tool writes for people (results, accepted rows, rejects, the ledger export)
asks :func:`choose_format`; the writers (:mod:`~pipeline.reports.tables`) only carry it out.

The output path's suffix names the format:

=================  ==========================================================================
``.csv`` ``.txt``  CSV, UTF-8 *with* BOM (Excel then opens Cyrillic correctly), ``\\r\\n`` line
                   ends; the delimiter is ``reports.delimiter``, or with ``auto`` (the default)
                   the input CSV's own (``;`` from a Russian Excel export), else ``,``
``.tsv``           the same with a tab, whatever ``reports.delimiter`` says (the suffix is
                   explicit)
``.xlsx``          a workbook for people: frozen header, autofilter, typed number/date cells
``.jsonl``         JSON Lines: one object per line, UTF-8 without BOM (``.ndjson`` too)
``.json``          one JSON array, one object per line inside it: ``json.load`` reads it
=================  ==========================================================================

Any other suffix (or none) is refused with :class:`~pipeline.errors.OutputFormatError`
(exit 2) before any work starts: writing CSV into ``x.json`` or ``x.pdf`` helps nobody.
A stream (``ledger export`` to stdout) is CSV without BOM: it feeds pipes, not Excel.

Only CSV cells go through the formula-injection rule (:mod:`~pipeline.reports.safety`): XLSX
cells are typed string cells that never run, and JSON is not opened by spreadsheets.

Usage::

    fmt = choose_format(Path("results.csv"), delimiter="auto", source=table.info)
    fmt.kind, fmt.delimiter, fmt.encoding        # ("csv", ";", "utf-8-sig")
    check_output_path(Path("results.pdf"))       # OutputFormatError: use .csv, .xlsx, ...
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pipeline.errors import OutputFormatError
from pipeline.records import SourceInfo

Kind = Literal["csv", "xlsx", "jsonl", "json"]
# How a column's text is typed in XLSX and JSON (CSV is text anyway). A cell that does not
# parse as its kind is written as the text it is: nothing is lost to typing.
CellKind = Literal["text", "integer", "decimal", "date", "datetime"]
# A payload field's configured type (columns.payload.*.type) → the kind of its column.
PAYLOAD_KINDS: dict[str, CellKind] = {
    "int": "integer",
    "decimal": "decimal",
    "date": "date",
    "datetime": "datetime",
}

SUFFIXES: dict[str, Kind] = {
    ".csv": "csv",
    ".txt": "csv",
    ".tsv": "csv",
    ".xlsx": "xlsx",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "json",
}
AUTO = "auto"
DEFAULT_DELIMITER = ","  # RFC 4180, for "auto" when there is no input CSV to copy
CSV_ENCODING = "utf-8-sig"  # UTF-8 with BOM: Excel reads BOM-less CSV in the ANSI code page


@dataclass(frozen=True, slots=True)
class OutputFormat:
    """How one output is written. ``encoding`` and ``delimiter`` matter for CSV only."""

    kind: Kind
    delimiter: str = DEFAULT_DELIMITER
    encoding: str = CSV_ENCODING

    @property
    def bom(self) -> bool:
        """True when the file starts with a UTF-8 byte order mark."""
        return self.kind == "csv" and self.encoding == CSV_ENCODING


def check_output_path(path: Path) -> Kind:
    """The format ``path``'s suffix names; :class:`OutputFormatError` (exit 2) for others."""
    kind = SUFFIXES.get(path.suffix.lower())
    if kind is None:
        said = f"its suffix {path.suffix!r}" if path.suffix else "it has no suffix"
        raise OutputFormatError(
            f"{path}: cannot tell which format to write ({said}); name the file .csv, .tsv, "
            f".txt, .xlsx, .jsonl or .json (docs/output-files.md says what each holds)."
        )
    return kind


def choose_format(
    path: Path, *, delimiter: str = AUTO, source: SourceInfo | None = None
) -> OutputFormat:
    """The format of an output at ``path`` (rules in the module docstring).

    ``delimiter``: ``reports.delimiter`` (``auto``, ``,``, ``;`` or a tab); ``source``: the
    input the file reports on, whose CSV delimiter ``auto`` copies.
    """
    kind = check_output_path(path)
    if kind != "csv":
        return OutputFormat(kind)
    if path.suffix.lower() == ".tsv":
        return OutputFormat("csv", delimiter="\t")
    return OutputFormat("csv", delimiter=csv_delimiter(delimiter, source))


def stream_format(*, delimiter: str = AUTO) -> OutputFormat:
    """CSV for a stream (stdout): the configured delimiter, no BOM (pipes and ``grep``)."""
    return OutputFormat("csv", delimiter=csv_delimiter(delimiter, None), encoding="utf-8")


def csv_delimiter(setting: str, source: SourceInfo | None) -> str:
    """``setting`` unless it is ``auto``; then the input CSV's delimiter, else ``,``."""
    if setting != AUTO:
        return setting
    if source is not None and source.format == "csv" and source.delimiter:
        return source.delimiter
    return DEFAULT_DELIMITER
