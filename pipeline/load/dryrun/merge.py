"""Classified chunks settled in file order, from whichever process classified them.

The in-file dedupe runs here, over every chunk in file order, so "duplicate of the FIRST row"
holds across a file cut into ranges exactly as in one process.

Usage::

    merge = Merge(summary, row_transformer, outputs_or_None)
    merge.add(rows_in_chunk, classified, column_cells(first_row, columns))
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from pipeline.load.dryrun.tally import ValidateSummary
from pipeline.load.dryrun.writers import Outputs
from pipeline.transform import codes

if TYPE_CHECKING:
    from pipeline.transform.assembly import Classified, RowTransformer


class Merge:
    """Settles classified chunks in file order and feeds the summary and the outputs."""

    def __init__(
        self, summary: ValidateSummary, rows: RowTransformer, outputs: Outputs | None
    ) -> None:
        self.summary, self.rows, self.outputs = summary, rows, outputs

    def add(self, size: int, classified: Classified, cells: Callable[[int], list[str]]) -> None:
        summary = self.summary
        summary.read += size
        summary.rejected += len(classified.rejections)
        summary.reasons.update(r.code for r in classified.rejections)
        summary.zones.update(classified.zones)
        if self.outputs is None:
            repeats = self.rows.settle_count(classified)
            summary.accepted += len(classified.rows) - repeats
        else:
            result = self.rows.settle(classified)
            repeats = len(result.duplicates)
            summary.accepted += len(result.items)
            self.outputs.write(result, cells)
        summary.duplicate += repeats
        summary.reasons[codes.DUPLICATE] += repeats


def column_cells(first: int, columns: list[list[str]]) -> Callable[[int], list[str]]:
    """``cells(row)`` for a chunk held as text columns whose first row is ``first``."""
    return lambda row: [column[row - first] for column in columns]


def chunk_size(classified: Classified) -> int:
    """Rows of a chunk classified elsewhere (each is either a candidate or rejected)."""
    return len(classified.rows) + len(classified.rejections)
