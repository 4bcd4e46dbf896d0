"""The CSV reader: detected or configured encoding and delimiter, streamed in chunks.

The file is read as bytes in blocks (:class:`~pipeline.extract.text.TextBlocks`) and parsed by
:class:`~pipeline.extract.blocks.CsvBlocks`: plain blocks are split directly, blocks with
quotes go through the standard :mod:`csv` module (C parser) in strict mode, with the same
result. A quote that is never closed or text glued after a closing quote stops the read with
the line number, instead of silently swallowing the rest of the file into one cell; so do a
record, a cell or a column count beyond the bounds of ``ReadOptions.limits``. The header is
the first non-blank record, read the same way (so it is bounded too).

Usage::

    with CsvTable(Path("export.csv"), ReadOptions()) as table:
        table.info.encoding, table.info.delimiter
        for chunk in table.chunks():
            ...
    with CsvTable(Path("export.csv"), ReadOptions(), name="export.csv") as table:
        table.check_rest()       # every structural check of chunks(), without building rows
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pipeline.errors import InputFileError
from pipeline.extract.blocks import CsvBlocks
from pipeline.extract.detect import detect_encoding, sample_text, sniff_delimiter
from pipeline.extract.header import pick_header
from pipeline.extract.options import ReadOptions
from pipeline.extract.table import Table, assemble, check_header
from pipeline.extract.text import TextBlocks
from pipeline.records import RowChunk, SourceInfo


class CsvTable(Table):
    """An open CSV file (``.csv``, ``.tsv``, ``.txt``); ``name`` is how messages call it."""

    engine = "csv"

    def __init__(self, path: Path, options: ReadOptions, name: str | None = None) -> None:
        self._path = path
        self.name = name or str(path)
        self._options = options
        self.notes: list[str] = []
        self._owned: Any = None  # a private plain copy this table reads (unwrap.py)
        detected = options.encoding == "auto"
        encoding = detect_encoding(path) if detected else options.encoding
        self.encoding_detected = detected  # for readers of parts of the file (ranges.py)
        if options.delimiter == "auto":
            sample, whole = sample_text(path, encoding)
            delimiter = sniff_delimiter(sample, whole, options.header_names)
        else:
            delimiter = options.delimiter
        limits = options.limits
        text = TextBlocks(path, encoding, limits=limits, name=self.name, detected=detected)
        self._blocks = text.__iter__()  # a generator: close() releases the file
        self._parser = CsvBlocks(path, delimiter, lines_before=0, limits=limits, name=self.name)
        try:
            header, line, self._pending = self._read_header()
        except BaseException:
            self.close()
            raise
        # physical lines up to the end of the header record: where the data starts
        breaks = sum(c.count("\n") + c.count("\r") - c.count("\r\n") for c in header)
        self.data_line = line + breaks
        # A BOM survives when utf-8 was forced on a utf-8-sig file; it is never part of a name.
        header = [cell.replace("\ufeff", "") for cell in header]
        while header and not header[-1].strip():
            header.pop()  # "a;b;c;" exports: a trailing delimiter is not a column
        check_header(self.name, header, f"header on line {line}")
        self.info = SourceInfo(
            path=self.name,
            format="csv",
            header=tuple(header),
            encoding=encoding,
            delimiter=delimiter,
            header_row=line,
        )

    def _read_header(self) -> tuple[list[str], int, list[list[str]]]:
        """The header record (header.py), its first line and the records read after it."""
        numbered = _Numbered(self._blocks, self._parser)
        found = pick_header(iter(numbered), self._options, what="line", name=self.name)
        if found is None:
            raise InputFileError(
                f"{self.name}: the file is empty (no header line). Export it again with "
                f"a header row (phone, name, ...)."
            )
        if found.note:
            self.notes.append(found.note)
        return found.cells, found.number, found.rest + numbered.rest()

    def chunks(self) -> Iterator[RowChunk]:
        self._start()
        size = self._options.chunk_size

        def batches() -> Iterator[list[list[str]]]:
            pending, self._pending = self._pending, []
            for text, final in self._blocks:
                pending.extend(self._parser.records(text, final=final))
                while len(pending) >= size:
                    yield pending[:size]
                    del pending[:size]
            if pending:
                yield pending

        yield from assemble(batches(), len(self.info.header))

    def check_rest(self) -> None:
        """Read the rest of the file through every check :meth:`chunks` makes, building no
        rows: an :class:`InputFileError` here is exactly the one :meth:`chunks` would raise."""
        self._start()
        self._pending = []
        for text, final in self._blocks:
            self._parser.scan(text, final=final)

    @property
    def plain(self) -> bool:
        """Whether the file is read as given (not from a decompressed/re-encoded copy): only
        then can byte ranges of the given file be read in parallel."""
        return self._owned is None

    def adopt(self, owned: Any) -> None:
        """Close ``owned`` (the private copy this table reads) when the table closes."""
        self._owned = owned

    def close(self) -> None:
        self._blocks.close()
        owned, self._owned = self._owned, None
        if owned is not None:
            owned.close()


class _Numbered:
    """The records of text blocks with their first line numbers; :meth:`rest` is what the
    current block holds beyond the last record handed out."""

    def __init__(self, blocks: Iterator[tuple[str, bool]], parser: CsvBlocks) -> None:
        self._blocks, self._parser = blocks, parser
        self._current: list[list[str]] = []
        self._pos = -1

    def __iter__(self) -> Iterator[tuple[int, list[str]]]:
        for text, final in self._blocks:
            line = self._parser.lines
            self._current = self._parser.records(text, final=final)
            for pos, record in enumerate(self._current):
                self._pos = pos
                yield line + 1, record
                line += 1 + sum(c.count("\n") + c.count("\r") - c.count("\r\n") for c in record)
            self._current, self._pos = [], -1

    def rest(self) -> list[list[str]]:
        return self._current[self._pos + 1 :]
