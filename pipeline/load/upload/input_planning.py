"""Planning one input file into the ledger: read → transform → ``plan_chunks`` → complete.

Usage::

    counts = plan_file(cfg, Path("export.csv"), file_info(path), ledger, lease, now=clock())

A file the ledger already planned completely (same campaign, same sha256) is not read again,
which keeps the re-run of a finished file idle. A half-planned file is read again from the
start (the transform needs every row for its in-file dedupe) and the ledger skips the rows it
already holds.

The rows are frozen into batches of ``upload.batch_size`` as they are planned, one transaction
per ~25,000 rows. Fewer, larger commits write fewer pages (the phone index takes random pages,
and every commit writes each page it touched), but each row of a chunk is held twice, in the
reader and in the uploader: chunks of 100,000 rows took the two processes to ~530 MB on a 1M-row
upload, 25,000 to ~380 MB (issue 14: at most 400 MB for the tree). Measured on 1M rows the
smaller commits cost next to nothing; on 3M rows, when the phone index has outgrown the page
cache, inserting them costs ~0.3 s more CPU per 100,000 rows.

Reading, transforming and turning rows into ledger values (canonical JSON, row keys) run
beside the ledger's inserts: in a forked process for a big file on a machine with more than one
CPU (the uploader's own threads then keep its interpreter to themselves), else in a thread.
``JAICP_WORKERS=1`` keeps it in this process, ``2`` or more forks whatever the size.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
from collections.abc import Callable, Iterator, Sequence
from contextlib import closing
from datetime import datetime
from operator import itemgetter
from pathlib import Path

from pipeline.config import WORKERS_ENV, Config, requested_workers
from pipeline.errors import PipelineError, WorkerError
from pipeline.extract import ReadOptions, check_structure, is_spreadsheet
from pipeline.extract.forked import Forked, cpu_count
from pipeline.ledger import (
    ContactRules,
    InputFile,
    Lease,
    Ledger,
    PlanCounts,
    PlanRecord,
    PreparedChunk,
    gc_paused,
)
from pipeline.ledger.transitions.row_values import ROW_NUMBER
from pipeline.load.ingest import Ingest
from pipeline.load.send.sender import BODY_FOR
from pipeline.load.upload.prefetch import prefetched

# Rows per planning transaction (the reader's chunks are merged and cut to this many): memory
# of both processes grows with it (see the module doc).
PLAN_ROWS = 25_000
# Rows of the first planning transaction: its batches go out while the rest is planned, so
# the senders start within ~0.1 s of the first rows read instead of after a whole chunk
# (~0.7 s for 20,000 rows on 2 CPUs while the reader competes for them).
FIRST_PLAN_ROWS = 2_500
# Below this size a forked reader costs more than it saves.
FORK_MIN_BYTES = 4 << 20

__all__ = [
    "FIRST_PLAN_ROWS",
    "FORK_MIN_BYTES",
    "PLAN_ROWS",
    "WORKERS_ENV",
    "fork_reader",
    "plan_file",
]

Prepare = Callable[[Sequence[PlanRecord]], PreparedChunk]


def plan_file(
    cfg: Config,
    path: Path,
    info: InputFile,
    ledger: Ledger,
    lease: Lease,
    *,
    now: datetime,
    on_chunk: Callable[[], None] | None = None,
    name: str | None = None,
    rules: ContactRules | None = None,
) -> PlanCounts:
    """Record every row of ``path`` in the ledger (once, across crashes and re-runs).

    ``on_chunk`` runs after each planned chunk is committed, its batches frozen
    (:meth:`Dispatcher.pump <pipeline.load.send.dispatcher.Dispatcher.pump>` sends them meanwhile).
    ``name`` is how messages call the file (``path`` may be a private copy of it).

    A file is accepted whole or not at all: before its first row is planned (so before any
    of its rows can be sent) the whole file is checked for structural errors — undecodable
    bytes, mixed encodings, broken quoting, records, cells or sheets beyond the ``input.*``
    bounds — with :func:`~pipeline.extract.check_structure`, the reader's own rules (a CSV
    here; a sheet when the reader opens it: calamine loads it whole, an openpyxl sheet is
    checked through first); a missing mapped column stops the reader before its first row.
    Bad rows stay row-level rejects. ``rules``: the do-not-call lists and contact caps every
    row is checked against while it is planned (:func:`pipeline.load.suppress_lists.contact_rules`).
    """
    # Checked before the ledger hears of it: a refused file leaves no input behind. A file
    # planned before (same campaign, same bytes) is not read at all.
    if not is_spreadsheet(path, name=name) and not ledger.inputs.is_complete(
        lease.campaign_id, info.sha256
    ):
        # A sheet is checked when the reader opens it, before its first row (see Ingest).
        check_structure(path, ReadOptions.from_config(cfg), name=name)
    state = ledger.inputs.begin(lease, name=info.name, sha256=info.sha256)
    if state.complete:
        return PlanCounts()
    produce = _Reader(cfg, path, now, ledger.planning.chunk_preparer(lease, state.id), name=name)
    with contextlib.ExitStack() as stack:
        # The collector paused while the file is planned and sent: this makes and keeps
        # millions of objects and next to no reference cycles (~10,000 unreachable objects
        # per million rows), and its passes over them cost ~3 CPU-s per million rows.
        stack.enter_context(gc_paused())
        if fork_reader(path):
            # The child ignores TERM/HUP/INT sent to the group: we stop in order, then end it.
            child = Forked(produce.in_child, ignore_stop_signals=True)
            stack.callback(child.close)
            items: Iterator[PreparedChunk | int] = _explained(iter(child), path, child)
        else:
            # Closed (producer joined) before the file is.
            items = stack.enter_context(closing(prefetched(produce(), name="plan-reader")))
        counted = _Counted(items)
        counts = ledger.planning.plan_chunks(
            lease,
            state.id,
            counted,
            allow_repeats=cfg.upload.allow_repeats,
            repeat_window_s=cfg.upload.repeat_window_s,
            batch_size=cfg.upload.batch_size,
            body_for=BODY_FOR,
            after_chunk=on_chunk,
            rules=rules,
        )
        ledger.inputs.complete(lease, state.id, rows_total=counted.rows_read)
    return counts


def fork_reader(path: Path) -> bool:
    """Whether ``path`` is read in a forked process (see the module doc)."""
    requested = requested_workers()  # ConfigError (exit 4) for a value that is no number
    if requested is not None:
        return requested > 1
    try:
        size = path.stat().st_size
    except OSError:
        return False  # the reader reports the problem
    return cpu_count() > 1 and size >= FORK_MIN_BYTES


class _Reader:
    """Reads and transforms the file; yields prepared chunks, then the number of rows read."""

    def __init__(
        self, cfg: Config, path: Path, now: datetime, prepare: Prepare, *, name: str | None
    ) -> None:
        self.cfg, self.path, self.now, self.prepare = cfg, path, now, prepare
        self.name = name
        self.parent = os.getpid()  # the uploader, for a forked child to watch

    def __call__(self) -> Iterator[PreparedChunk | int]:
        with Ingest(self.cfg, self.path, now=self.now, name=self.name) as ingest:
            merged: PreparedChunk | None = None
            # The first chunk is smaller: the ledger (and sending) can start sooner.
            size = min(FIRST_PLAN_ROWS, PLAN_ROWS)
            for _chunk, result in ingest.results():
                # Each read chunk is turned into values at once and its records let go of:
                # records (a payload dict per row) and values of 100,000 rows at once were
                # the forked reader's peak.
                part = self.prepare([*result.items, *result.rejections, *result.duplicates])
                merged = part if merged is None else _joined(merged, part)
                # Cut to `size` rows: read chunks of 20,000 merged to 40,000 per transaction,
                # which both processes held at once (and the senders waited for).
                while merged is not None and len(merged.values) >= size:
                    head, merged = _cut(merged, size)
                    yield head
                    size = PLAN_ROWS
            if merged is not None and merged.values:
                yield merged
            yield ingest.read

    def in_child(self) -> Iterator[PreparedChunk | int]:  # pragma: no cover - forked child
        """:meth:`__call__` in the forked child, which dies with the uploader (a killed upload
        must not leave a reader behind)."""
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(None).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG (Linux)
        if os.getppid() != self.parent:
            return  # the uploader died before the line above
        yield from self()


def _joined(first: PreparedChunk, then: PreparedChunk) -> PreparedChunk:
    """``then`` appended to ``first`` (in place), still in row order: the reader's chunks
    come in file order; were one ever not to, the whole is sorted back."""
    rows = first.values
    late = bool(rows and then.values and then.values[0][ROW_NUMBER] < rows[-1][ROW_NUMBER])
    rows += then.values
    if late:  # pragma: no cover - not seen
        rows.sort(key=itemgetter(ROW_NUMBER))
    first.dup_links.update(then.dup_links)
    return first


def _cut(chunk: PreparedChunk, rows: int) -> tuple[PreparedChunk, PreparedChunk | None]:
    """The first ``rows`` rows of ``chunk`` and the rest (None when nothing is left), each
    with the duplicate links of its own rows: a link is applied in the transaction that
    inserts its duplicate row (the original came before it, in the same piece or earlier)."""
    values = chunk.values
    if len(values) <= rows:
        return chunk, None
    last = values[rows - 1][ROW_NUMBER]
    head = {row: of for row, of in chunk.dup_links.items() if row <= last}
    tail = {row: of for row, of in chunk.dup_links.items() if row > last}
    return PreparedChunk(values[:rows], head), PreparedChunk(values[rows:], tail)


class _Counted:
    """The prepared chunks of a reader's stream; ``rows_read`` once it is exhausted.

    Planning is done with a chunk when it asks for the next one (the chunk is committed):
    its rows are let go of then, before the next chunk is read; the planner's loop still
    names the old chunk while it waits, so two chunks would be held at once. (Rows the
    freezer carries into the next batch stay alive: the freezer holds them itself.)
    """

    def __init__(self, items: Iterator[PreparedChunk | int]) -> None:
        self.items = items
        self.rows_read = -1  # not known until the reader finished

    def __iter__(self) -> Iterator[PreparedChunk]:
        while True:
            # Unpickling a chunk from the forked reader makes ~100,000 lists: with the
            # collector on it takes three times as long (it runs over and over).
            with gc_paused():
                item = next(self.items, None)
            if item is None:
                return
            if isinstance(item, int):
                self.rows_read = item
            else:
                yield item
                item.values.clear()
                item.dup_links.clear()


def _explained(
    items: Iterator[PreparedChunk | int], path: Path, child: Forked
) -> Iterator[PreparedChunk | int]:
    """The child's stream, its sudden death told in the uploader's terms."""
    try:
        yield from items
    except WorkerError:
        raise PipelineError(
            f"{path}: the process reading the file (pid {child.pid}) ended with exit code "
            f"{child.exit_code} before it finished; nothing of the unread part was planned. "
            f"Run again (set {WORKERS_ENV}=1 to read in the uploader's own process) and report "
            f"the problem if it persists."
        ) from None
