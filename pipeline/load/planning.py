"""Planning one input file into the ledger: read → transform → ``plan_chunks`` → complete.

Usage::

    counts = plan_file(cfg, Path("export.csv"), file_info(path), ledger, lease, now=clock())

A file the ledger already planned completely (same campaign, same sha256) is not read again,
which keeps the re-run of a finished file idle. A half-planned file is read again from the
start (the transform needs every row for its in-file dedupe) and the ledger skips the rows it
already holds.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import closing
from datetime import datetime
from pathlib import Path

from pipeline.config import Config
from pipeline.ledger import InputFile, Lease, Ledger, PlanCounts
from pipeline.ledger.plan import PlanRecord
from pipeline.load.ingest import Ingest
from pipeline.load.prefetch import prefetched


def plan_file(
    cfg: Config,
    path: Path,
    info: InputFile,
    ledger: Ledger,
    lease: Lease,
    *,
    now: datetime,
) -> PlanCounts:
    """Record every row of ``path`` in the ledger (once, across crashes and re-runs)."""
    state = ledger.begin_input(lease, name=info.name, sha256=info.sha256)
    if state.complete:
        return PlanCounts()
    with Ingest(cfg, path, now=now) as ingest:

        def records() -> Iterator[list[PlanRecord]]:
            for _chunk, result in ingest.results():
                yield [*result.items, *result.rejections, *result.duplicates]

        # The next chunk is read and transformed while the ledger inserts this one; closed
        # (producer joined) before the file is.
        with closing(prefetched(records(), name="plan-reader")) as chunks:
            counts = ledger.plan_chunks(
                lease,
                state.id,
                chunks,
                allow_repeats=cfg.upload.allow_repeats,
                repeat_window_s=cfg.upload.repeat_window_s,
            )
        ledger.complete_input(lease, state.id, rows_total=ingest.read)
    return counts
