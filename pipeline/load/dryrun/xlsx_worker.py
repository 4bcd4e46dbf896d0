"""An XLSX validated with its sheet read in a forked worker (forked first: this module imports
little, so that the worker starts parsing at once).

One worker reads the sheet (calamine parses it whole, which is most of the cost) and sends text
columns; this process classifies them meanwhile. The reader also classifies every 4th chunk
itself, which balances the two.

Usage::

    summary = run_xlsx_worker(config, Path("big.xlsx"), options, now=now,
                              files=(accepted, rejects, batches))
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pipeline.config import Config
from pipeline.extract import ReadOptions, open_table
from pipeline.extract.forked import Forked
from pipeline.load.dryrun.merge import Merge, chunk_size, column_cells
from pipeline.load.dryrun.tally import ValidateSummary
from pipeline.load.dryrun.writers import OutputPaths, Outputs
from pipeline.records import SourceInfo

if TYPE_CHECKING:  # imported where used: the reader is forked before numpy and phonenumbers
    # load, so that their import overlaps with its parsing of the sheet
    from pipeline.transform.assembly import RowTransformer

XLSX_WORKER_SHARE = 4  # the reader also classifies every 4th chunk: it balances the two


def run_xlsx_worker(
    config: Config,
    path: Path,
    options: ReadOptions,
    *,
    now: datetime,
    files: OutputPaths,
    suppressed: frozenset[str] | None = None,
) -> ValidateSummary:
    """Validate the XLSX ``path``, its sheet read by a forked worker."""
    accepted, rejects, batches = files
    build = accepted is not None or rejects is not None or batches is not None

    def read() -> Iterator[Any]:
        with open_table(path, options) as table:
            yield table.info
            own: RowTransformer | None = None
            for index, chunk in enumerate(table.chunks()):
                first = chunk.row_numbers[0]
                columns = [list(column) for column in zip(*chunk.rows, strict=True)]
                if index % XLSX_WORKER_SHARE == XLSX_WORKER_SHARE - 1:
                    if own is None:  # imported while the parent works on the first chunks
                        from pipeline.transform.assembly import RowTransformer

                        own = RowTransformer(
                            config, table.info.header, now=now, suppressed=suppressed
                        )
                    verdicts = own.classify_columns(first, columns, chunk.extra, items=build)
                    yield first, columns if rejects else None, verdicts.pack()
                else:
                    yield first, columns, chunk.extra

    reader = Forked(read)  # before the transform's imports: they overlap with calamine
    try:
        from pipeline.transform.assembly import Classified, RowTransformer

        stream = iter(reader)
        info = next(stream)
        assert isinstance(info, SourceInfo)
        rows = RowTransformer(config, info.header, now=now, suppressed=suppressed)
        with ExitStack() as stack:
            summary = ValidateSummary(info)
            outputs = None
            if build:
                outputs = Outputs(
                    stack, config, info, accepted=accepted, rejects=rejects, batches=batches
                )
            merge = Merge(summary, rows, outputs)
            for first, columns, rest in stream:
                if isinstance(rest, tuple):  # classified by the reader
                    classified = Classified.unpack(rest)
                    size = chunk_size(classified)
                    merge.add(size, classified, column_cells(first, columns or []))
                    continue
                classified = rows.classify_columns(first, columns, rest, items=build)
                merge.add(len(columns[0]), classified, column_cells(first, columns))
            if outputs is not None:
                outputs.finish()
                summary.batches = outputs.batches
    finally:
        reader.close()
    return summary
