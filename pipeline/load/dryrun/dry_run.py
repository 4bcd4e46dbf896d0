"""The dry run: a file streamed through the transform, counted, and optionally written out.

One process for a small file; for a big one, forked CSV ranges
(:mod:`~pipeline.load.dryrun.csv_ranges`) or a forked XLSX reader
(:mod:`~pipeline.load.dryrun.xlsx_worker`), which give the same counts and outputs.

Usage::

    summary = run_validate(cfg, Path("export.csv"), now=datetime.now(UTC),
                           rejects=Path("rejects.csv"), workers=None)
    summary.read == summary.accepted + summary.rejected + summary.duplicate
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import ExitStack
from datetime import datetime
from pathlib import Path

from pipeline.collector import gc_paused
from pipeline.config import WORKERS_ENV, Config, requested_workers
from pipeline.extract import CSV_SUFFIXES, XLSX_SUFFIXES, ReadOptions
from pipeline.extract.forked import cpu_count
from pipeline.load.dryrun.tally import ValidateSummary, checked
from pipeline.load.dryrun.writers import OutputPaths, Outputs, check_paths
from pipeline.records import RowChunk
from pipeline.transform import codes

PARALLEL_MIN_BYTES = 4 << 20  # below this, forking costs more than it saves

__all__ = [
    "PARALLEL_MIN_BYTES",
    "WORKERS_ENV",
    "choose_workers",
    "run_validate",
    "run_validate_rows",
]


def run_validate(
    config: Config,
    path: Path,
    *,
    now: datetime,
    accepted: Path | None = None,
    rejects: Path | None = None,
    batches: Path | None = None,
    workers: int | None = None,
    suppressed: frozenset[str] | None = None,
) -> ValidateSummary:
    """Stream ``path`` through the transform; write the requested outputs; return counts.

    ``workers``: processes to use (None: one per CPU for a big enough file, see
    :func:`choose_workers`). The parallel path gives the same counts and outputs as one
    process; a file it cannot cut at record boundaries is read by one process.
    ``suppressed``: phones on a do-not-call list, rejected ``suppressed``.
    """
    check_paths(accepted, rejects)
    with gc_paused():  # forked workers inherit the pause
        files = (accepted, rejects, batches)
        return _validate(config, path, now=now, files=files, workers=workers, suppressed=suppressed)


def _validate(
    config: Config,
    path: Path,
    *,
    now: datetime,
    files: OutputPaths,
    workers: int | None,
    suppressed: frozenset[str] | None,
) -> ValidateSummary:
    count = choose_workers(path, workers)
    # A CSV goes the range way even in one process: one range, no fork, and the columnar
    # transform that skips building a call item per row (the row way below costs ~1.5x CPU).
    if count > 1 or path.suffix.lower() in CSV_SUFFIXES:
        summary = _run_parallel(config, path, count, now=now, files=files, suppressed=suppressed)
        if summary is not None:
            return checked(summary, path)
    accepted, rejects, batches = files
    return run_validate_rows(
        config,
        path,
        now=now,
        accepted=accepted,
        rejects=rejects,
        batches=batches,
        suppressed=suppressed,
    )


def run_validate_rows(
    config: Config,
    path: Path,
    *,
    now: datetime,
    accepted: Path | None = None,
    rejects: Path | None = None,
    batches: Path | None = None,
    suppressed: frozenset[str] | None = None,
) -> ValidateSummary:
    """:func:`run_validate` the row way, in this process: the file through
    :class:`~pipeline.load.ingest.Ingest`, as ``upload`` reads it. Any file ``open_table``
    reads; the reference the range way is tested against."""
    from pipeline.load.ingest import Ingest

    with ExitStack() as stack:
        ingest = stack.enter_context(Ingest(config, path, now=now, suppressed=suppressed))
        summary = ValidateSummary(ingest.info)
        outputs = Outputs(
            stack, config, ingest.info, accepted=accepted, rejects=rejects, batches=batches
        )
        for chunk, result in ingest.results():
            summary.read += len(chunk.rows)
            summary.accepted += len(result.items)
            summary.rejected += len(result.rejections)
            summary.duplicate += len(result.duplicates)
            summary.reasons.update(r.code for r in result.rejections)
            summary.reasons[codes.DUPLICATE] += len(result.duplicates)
            summary.zones.update(result.zones)
            outputs.write(result, _row_cells(chunk))
        outputs.finish()
        summary.batches = outputs.batches
    return checked(summary, path)


def _row_cells(chunk: RowChunk) -> Callable[[int], list[str]]:
    first = chunk.row_numbers[0] if chunk.row_numbers else 0
    if chunk.row_numbers == list(range(first, first + len(chunk.rows))):
        return lambda row: chunk.rows[row - first]
    return dict(zip(chunk.row_numbers, chunk.rows, strict=True)).__getitem__


def choose_workers(path: Path, requested: int | None) -> int:
    """Processes for ``path``: ``requested`` (or ``$JAICP_WORKERS``) when given, else one per
    CPU (at most 4) for files of at least 4 MiB, else 1."""
    if requested is None:
        requested = requested_workers()
    if requested is not None:
        return max(1, requested)
    try:
        size = path.stat().st_size
    except OSError:
        return 1  # the serial path reports the problem
    return min(cpu_count(), 4) if size >= PARALLEL_MIN_BYTES else 1


def _run_parallel(
    config: Config,
    path: Path,
    workers: int,
    *,
    now: datetime,
    files: OutputPaths,
    suppressed: frozenset[str] | None,
) -> ValidateSummary | None:
    options = ReadOptions.from_config(config)
    suffix = path.suffix.lower()
    if suffix in XLSX_SUFFIXES:
        from pipeline.load.dryrun.xlsx_worker import run_xlsx_worker

        return run_xlsx_worker(config, path, options, now=now, files=files, suppressed=suppressed)
    if suffix not in CSV_SUFFIXES:
        return None
    from pipeline.load.dryrun.csv_ranges import run_csv_ranges

    return run_csv_ranges(
        config, path, workers, options, now=now, files=files, suppressed=suppressed
    )
