"""Structured progress of an upload run, for progress bars and plain progress lines.

``run_upload(..., on_progress=callback)`` calls ``callback(Progress(...))``:

* ``Progress("plan", done, None, name)`` after each input file is planned (``done``: rows read
  so far in this run; the ledger plans a file in one call, so this is per file);
* ``Progress("send", 0, total, "")`` when a sending phase starts (``total``: rows waiting);
* ``Progress("send", done, total, "")`` after each batch that settled (confirmed or rejected).

Rows of a file are sent while the file is still being planned: they are reported as they
settle, with ``growing=True`` (``total`` is then the rows launched so far; planning adds more).
The sending phase after planning goes on counting from there, its ``total`` now the rows
settled plus the rows still waiting, so a long file shows rows going out from its first chunk.

Usage::

    def show(p: Progress) -> None:
        print(p.stage, p.done, p.total)

    run_upload(cfg, files, ..., on_progress=show)

Callbacks may come from sender threads (``upload.concurrency`` > 1); the meter serialises them.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from pipeline.ledger import BatchWork
from pipeline.load.send.sender import BatchSender, Outcome

Stage = Literal["plan", "send"]
_SETTLED = (Outcome.CONFIRMED, Outcome.REJECTED)


@dataclass(frozen=True, slots=True)
class Progress:
    """One progress report: stage, rows done so far, rows in total when known, a label."""

    stage: Stage
    done: int
    total: int | None
    label: str = ""
    growing: bool = False  # rows sent while planning: the total grows as planning goes on


class Meter:
    """Counts rows per stage and forwards each change to the callback (thread-safe)."""

    def __init__(self, callback: Callable[[Progress], None]) -> None:
        self._callback = callback
        self._lock = threading.Lock()
        self._done = 0
        self._total: int | None = None
        self.rows_read = 0
        # Whether rows are being launched while their file is planned (see the module doc).
        self._early = False

    def planned(self, rows: int, label: str) -> None:
        """A file was planned: ``rows`` more rows read."""
        with self._lock:
            self.rows_read += rows
            self._callback(Progress("plan", self.rows_read, None, label))

    def start_sending(self, total: int) -> None:
        """A sending phase begins with ``total`` rows waiting (not settled yet)."""
        with self._lock:
            if self._early:
                # Planning is over: go on from the rows already settled while it ran.
                self._early = False
                self._total = self._done + total
                self._callback(Progress("send", self._done, self._total))
                return
            self._done, self._total = 0, total
            self._callback(Progress("send", 0, self._total))

    def more(self, rows: int) -> None:
        """``rows`` more rows are launched while their file is being planned."""
        if rows <= 0:
            return
        with self._lock:
            if not self._early:
                # The first rows sent during planning open a phase of their own.
                self._early, self._done, self._total = True, 0, rows
                self._callback(Progress("send", 0, rows, growing=True))
                return
            self._total = (self._total or 0) + rows

    def sent(self, rows: int) -> None:
        """A batch of ``rows`` rows settled."""
        with self._lock:
            self._done += rows
            self._callback(Progress("send", self._done, self._total, growing=self._early))


class MeteredSender(BatchSender):
    """A :class:`BatchSender` that tells its meter (when one is set) about settled batches."""

    meter: Meter | None = None

    def settled(self, work: BatchWork, outcome: Outcome) -> None:
        if self.meter is not None and outcome in _SETTLED:
            self.meter.sent(len(work.rows))

    def waiting(self, rows: int) -> None:
        if self.meter is not None:
            self.meter.more(rows)
