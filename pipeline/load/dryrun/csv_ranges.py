"""A big CSV validated in forked ranges.

The file is cut into byte ranges at record boundaries (:mod:`pipeline.extract.ranges`); this
process reads and classifies the first range while forked workers classify the others, each
sending compact verdicts (row numbers, dedupe keys, rejections; call items and cells only when
an output file needs them). :class:`~pipeline.load.dryrun.merge.Merge` settles them in file
order.

Usage::

    summary = run_csv_ranges(config, Path("big.csv"), 4, now=now, files=(None, None, None))
    # None: the file cannot be cut at record boundaries; read it in one process instead
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any

from pipeline.config import Config
from pipeline.extract import ReadOptions, open_table
from pipeline.extract.csv_reader import CsvTable
from pipeline.extract.forked import Forked
from pipeline.extract.ranges import CsvRange, plan_ranges, read_range
from pipeline.load.dryrun.merge import Merge, column_cells
from pipeline.load.dryrun.tally import ValidateSummary
from pipeline.load.dryrun.writers import OutputPaths, Outputs

# What this process spends settling a row (dedupe in file order, counts, unpacking a worker's
# verdicts), against classifying one: measured 8-12 % on the realistic benchmark file (each
# process's CPU seconds after the fork, logged per range, at several shares); 0.11 since the
# phone column is judged with numpy (classifying got cheaper, the merge less so): best wall
# time of 0.08 / 0.11 / 0.14 run in turn.
MERGE_COST = 0.11
# Writing the output files costs more per row than classifying it: the process that writes
# them reads as little as it may.
MIN_SHARE = 0.1


def parent_share(workers: int, *, writes: bool = False) -> float:
    """This process's share of the file: less than a worker's, by the merge it does for
    all of them, so that every process finishes at about the same time; the least share
    when it also ``writes`` the output files."""
    if writes:
        return MIN_SHARE
    return max(MIN_SHARE, (1 - (workers - 1) * MERGE_COST) / workers)


def run_csv_ranges(
    config: Config,
    path: Path,
    workers: int,
    options: ReadOptions,
    *,
    now: datetime,
    files: OutputPaths,
    suppressed: frozenset[str] | None = None,
) -> ValidateSummary | None:
    """Validate ``path`` with ``workers`` processes; None when it cannot be cut."""
    from pipeline.transform.assembly import Classified, RowTransformer

    accepted, rejects, batches = files
    with open_table(path, options) as table:
        if not isinstance(table, CsvTable) or not table.plain:
            return None  # a workbook, or a gzip/zip/UTF-16 CSV: read serially (its bytes differ)
        info, data_line, detected = table.info, table.data_line, table.encoding_detected
    # missing columns: before any fork (the children inherit it, the do-not-call set too)
    rows = RowTransformer(config, info.header, now=now, suppressed=suppressed)
    build = accepted is not None or rejects is not None or batches is not None
    share = parent_share(workers, writes=build)
    parts = plan_ranges(path, info, data_line, workers, first_share=share)
    if parts is None:
        return None
    keep_cells = rejects is not None

    def work(part: CsvRange) -> Iterator[tuple[int, int, Any, Any]]:
        for first, columns, extra in read_range(
            path, info, part, detected=detected, limits=options.limits
        ):
            classified = rows.classify_columns(first, columns, extra, items=build)
            size = len(columns[0])
            yield first, size, classified.pack(), columns if keep_cells else None

    children: list[Forked] = []
    try:
        for part in parts[1:]:
            children.append(Forked(partial(work, part)))
        with ExitStack() as stack:
            summary = ValidateSummary(info)
            outputs = None
            if build:
                outputs = Outputs(
                    stack, config, info, accepted=accepted, rejects=rejects, batches=batches
                )
            merge = Merge(summary, rows, outputs)
            for first, columns, extra in read_range(
                path, info, parts[0], detected=detected, limits=options.limits
            ):
                classified = rows.classify_columns(first, columns, extra, items=build)
                merge.add(len(columns[0]), classified, column_cells(first, columns))
            for child in children:
                shift = summary.read  # the part numbers its rows from 1
                for first, size, packed, columns in child:
                    classified = Classified.unpack(packed, shift)
                    merge.add(size, classified, column_cells(first + shift, columns or []))
            if outputs is not None:
                outputs.finish()
                summary.batches = outputs.batches
    finally:
        for child in children:
            child.close()
    return summary
