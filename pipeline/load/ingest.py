"""Read → transform: the one loop that turns an input file into accepted, rejected and duplicate
rows, shared by ``validate`` (dry run) and ``upload`` so the two can never disagree.

Usage::

    with Ingest(cfg, Path("export.csv"), now=datetime.now(UTC)) as ingest:
        ingest.info                              # SourceInfo: format, header, encoding…
        for chunk, result in ingest.results():   # RowChunk and its ChunkResult
            result.items, result.rejections, result.duplicates
        ingest.read                              # rows read so far (== sum of the three lists)
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from types import TracebackType

from pipeline.config import Config
from pipeline.errors import PipelineError
from pipeline.extract import (
    ReadOptions,
    Table,
    check_structure,
    checked_when_opened,
    open_table,
)
from pipeline.records import RowChunk, SourceInfo
from pipeline.transform.assembly import ChunkResult, RowTransformer


class Ingest:
    """An open input file and its transformer; iterate :meth:`results` once."""

    def __init__(
        self,
        config: Config,
        path: Path,
        *,
        now: datetime,
        name: str | None = None,
        suppressed: frozenset[str] | None = None,
    ) -> None:
        self.path = path
        # ``name``: how messages call the file (the uploader reads a private copy of it).
        options = ReadOptions.from_config(config)
        self._table: Table = open_table(path, options, name=name)
        if self._table.info.format == "xlsx" and not checked_when_opened(self._table):
            # openpyxl streams: a broken part of the sheet could surface after rows were
            # used. The whole sheet is checked first (a CSV is checked by the uploader).
            try:
                check_structure(path, options, name=name)
            except BaseException:
                self._table.close()
                raise
        try:
            # Raises InputFileError naming the missing columns before any row is read.
            header = self._table.info.header
            self._rows = RowTransformer(config, header, now=now, suppressed=suppressed)
        except BaseException:
            self._table.close()
            raise
        self.read = 0
        self.accepted = 0

    @property
    def info(self) -> SourceInfo:
        """What the reader found out about the file."""
        return self._table.info

    def results(self) -> Iterator[tuple[RowChunk, ChunkResult]]:
        """Each chunk of text rows with its transform result, in file order."""
        for chunk in self._table.chunks():
            result = self._rows.transform(chunk)
            classified = len(result.items) + len(result.rejections) + len(result.duplicates)
            if classified != len(chunk.rows):
                raise PipelineError(  # pragma: no cover - the transform accounts for every row
                    f"{self.path}: accounting broke: {len(chunk.rows)} rows read but "
                    f"{classified} classified; please report this bug."
                )
            self.read += len(chunk.rows)
            self.accepted += len(result.items)
            yield chunk, result

    def close(self) -> None:
        """Close the file."""
        self._table.close()

    def __enter__(self) -> Ingest:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
