"""The CSV reader: detected or configured encoding and delimiter, streamed in chunks.

Uses the standard :mod:`csv` module (C parser) in strict mode for the header and for any block
of text with quotes (plain blocks are split directly, with the same result: see ``blocks.py``):
a quote that is never closed or text glued after a closing quote stops the read with the line
number, instead of silently swallowing the rest of the file into one cell.

Usage::

    with CsvTable(Path("export.csv"), ReadOptions()) as table:
        table.info.encoding, table.info.delimiter
        for chunk in table.chunks():
            ...
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TextIO

from pipeline.errors import InputFileError
from pipeline.extract.base import Table, assemble, check_header
from pipeline.extract.blocks import BLOCK_CHARS, CsvBlocks, quoting_error
from pipeline.extract.detect import decode_error, detect_encoding, sample_text, sniff_delimiter
from pipeline.extract.options import ReadOptions
from pipeline.records import RowChunk, SourceInfo


class CsvTable(Table):
    """An open CSV file (``.csv``, ``.tsv``, ``.txt``)."""

    engine = "csv"

    def __init__(self, path: Path, options: ReadOptions) -> None:
        self._path = path
        self._options = options
        detected = options.encoding == "auto"
        self._encoding = detect_encoding(path) if detected else options.encoding
        self._detected = detected
        self.encoding_detected = detected  # for readers of parts of the file (ranges.py)
        if options.delimiter == "auto":
            delimiter = sniff_delimiter(*sample_text(path, self._encoding))
        else:
            delimiter = options.delimiter
        self._fh: TextIO = path.open("r", encoding=self._encoding, newline="")
        try:
            self._reader = csv.reader(self._fh, delimiter=delimiter, strict=True)
            header, header_line = self._read_header()
        except BaseException:
            self._fh.close()
            raise
        # physical lines up to the end of the header record: where the data starts
        self.data_line = self._reader.line_num
        self.info = SourceInfo(
            path=str(path),
            format="csv",
            header=tuple(header),
            encoding=self._encoding,
            delimiter=delimiter,
            header_row=header_line,
        )

    def _read_header(self) -> tuple[list[str], int]:
        with self._translated_errors():
            for record in self._reader:
                if any(record):
                    break
            else:
                raise InputFileError(
                    f"{self._path}: the file is empty (no header line). Export it again with "
                    f"a header row (phone, name, ...)."
                )
        # The header's first line: lines consumed minus the lines the header itself spans.
        line = self._reader.line_num - sum(cell.count("\n") for cell in record)
        # A BOM survives when utf-8 was forced on a utf-8-sig file; it is never part of a name.
        header = [cell.replace("\ufeff", "") for cell in record]
        while header and not header[-1].strip():
            header.pop()  # "a;b;c;" exports: a trailing delimiter is not a column
        check_header(str(self._path), header, f"header on line {line}")
        return header, line

    def chunks(self) -> Iterator[RowChunk]:
        self._start()
        size = self._options.chunk_size
        parser = CsvBlocks(self._path, self.info.delimiter or ",", lines_before=self.data_line)

        def batches() -> Iterator[list[list[str]]]:
            pending: list[list[str]] = []
            for text, final in self._texts():
                pending.extend(parser.records(text, final=final))
                while len(pending) >= size:
                    yield pending[:size]
                    del pending[:size]
            if pending:
                yield pending

        yield from assemble(batches(), len(self.info.header))

    def _texts(self) -> Iterator[tuple[str, bool]]:
        """The rest of the file in blocks that end at a line end; the last one is final."""
        carry = ""
        while True:
            with self._translated_errors():
                block = self._fh.read(BLOCK_CHARS)
            if not block:
                yield carry, True
                return
            cut = block.rfind("\n") + 1
            if not cut:
                carry += block
                continue
            yield carry + block[:cut], False
            carry = block[cut:]

    def close(self) -> None:
        self._fh.close()

    @contextmanager
    def _translated_errors(self) -> Iterator[None]:
        """Turn decode and CSV-grammar errors into InputFileError saying where and what to do."""
        try:
            yield
        except UnicodeDecodeError:
            raise decode_error(self._path, self._encoding, self._detected) from None
        except csv.Error as exc:
            raise quoting_error(self._path, self._reader.line_num, exc) from None
