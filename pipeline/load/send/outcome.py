"""What became of one batch in a run.

Usage::

    from pipeline.load.send.outcome import Outcome
    if outcome is Outcome.SPLIT: ...
"""

from __future__ import annotations

import enum


class Outcome(enum.Enum):
    """What became of one batch in this run."""

    CONFIRMED = "confirmed"
    REJECTED = "rejected"
    BAD_ROW = "bad_row"  # one row rejected, the others back to planned: freeze again
    SPLIT = "split"  # refused without naming a row: its rows are in two new batches
    PENDING = "pending"  # left for the next run
    EXPIRED = "expired"  # the key may have expired meanwhile: reconcile
    STOPPED = "stopped"  # the run is stopping; not sent
