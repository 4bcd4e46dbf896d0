"""Helpers shared by the benchmark scripts: timing and peak memory, printed the same way.

Usage::

    with Stage("read csv", rows=1_000_000) as stage:
        ...
    # prints: read csv: 1,000,000 rows in 0.41 s = 2,439,024 rows/s (peak RSS 312 MB)
"""

from __future__ import annotations

import resource
import sys
import time
from types import TracebackType


def peak_rss_mb() -> float:
    """Peak resident set size of this process so far, in MB (Linux reports KiB)."""
    kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return kib / 1024 if sys.platform != "darwin" else kib / (1024 * 1024)


def children_peak_rss_mb() -> float:
    """Largest peak RSS among finished child processes, in MB."""
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


class Stage:
    """Time a block and print rows/s and peak RSS when it ends."""

    def __init__(self, name: str, rows: int) -> None:
        self.name = name
        self.rows = rows
        self.seconds = 0.0
        self._start = 0.0

    @property
    def rows_per_s(self) -> float:
        return self.rows / self.seconds if self.seconds else float("inf")

    def __enter__(self) -> Stage:
        self._start = time.perf_counter()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.seconds = time.perf_counter() - self._start
        if exc is None:
            print(
                f"{self.name}: {self.rows:,} rows in {self.seconds:.2f} s = "
                f"{self.rows_per_s:,.0f} rows/s (peak RSS {peak_rss_mb():.0f} MB)",
                flush=True,
            )
