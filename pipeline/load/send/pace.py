"""How many ``addPhones`` requests may be on the wire at once with ``upload.concurrency: auto``:
slow start, then additive increase while replies stay fast and nothing is refused,
multiplicative decrease on a 429, a 5xx or a timeout (AIMD, as TCP does with its congestion
window).

Why: against a server far away one request at a time leaves it idle for most of each round
trip (batch 500 at 100 ms: 5,000 rows/s at most); a fixed number of senders is either too few
for a far server or too many for a busy one. The number that fits is found by trying: twice
as many senders each time a full round of replies came back fast and unrefused, until the
first sign of too many (slow start: 1 → 8 in three rounds, not seven: on a server 100 ms
away, about 0.4 s of the ramp); after that sign, one more per such round; half as many when
the server says it has too much (429, 5xx) or does not answer in time.

Pure bookkeeping: the senders report each reply (:meth:`Pace.replied`) or overload
(:meth:`Pace.overloaded`) from any thread; the dispatcher asks :meth:`Pace.adjust` between two
groups of batches and applies the new limit (:class:`Gate`). The clock is injected (tests pass
a fake one; nothing here sleeps): the senders time their requests with it, and the log of
changes is rate-limited by it.

Usage::

    pace = Pace(maximum=8, clock=time.monotonic)
    gate = Gate(pace.limit)            # around each request: ``with gate: ...``
    pace.replied(0.104)                # a reply came back after 0.104 s
    pace.overloaded()                  # a 429 / 5xx / timeout
    if (change := pace.adjust()) is not None:
        gate.resize(change.limit)
"""

from __future__ import annotations

import statistics
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

# Replies count as fast while their median over a round stays within this factor of the
# fastest round seen: above it the server (or our side) is queueing, and more senders would
# only lengthen the queue.
SLOW_FACTOR = 1.5
# A decrease is halving.
DECREASE = 0.5
# After a decrease the next full round brings no increase: its requests were mostly sent at
# the old limit and say nothing about the new one (TCP waits a round trip the same way).
# Counted in rounds, not seconds, so it holds whatever the server's reply time.
QUIET_ROUNDS = 1


def threads(concurrency: int | Literal["auto"], maximum: int) -> int:
    """Sender threads for ``upload.concurrency`` (a number; ``auto``: up to ``maximum``)."""
    return maximum if concurrency == "auto" else concurrency


@dataclass(frozen=True, slots=True)
class Change:
    """A new limit, and why."""

    limit: int
    before: int
    reason: str


class Pace:
    """The AIMD limit of requests in flight; thread-safe (see the module doc)."""

    def __init__(self, *, maximum: int, clock: Callable[[], float], start: int = 1) -> None:
        if not 1 <= start <= maximum:
            raise ValueError(f"start must be between 1 and maximum ({maximum}), got {start}")
        self.maximum = maximum
        self.clock = clock
        self.limit = start
        self._lock = threading.Lock()
        self._latencies: list[float] = []  # replies since the last adjust
        self._overloads = 0  # 429 / 5xx / timeouts since the last adjust
        self._baseline: float | None = None  # fastest median of a full round so far
        self._quiet = 0  # full rounds still to pass without an increase
        # Slow start: the limit doubles per fast round until the first overload or slow
        # round; from then on it grows by one (TCP leaves slow start the same way).
        self.slow_start = True

    def replied(self, seconds: float) -> None:
        """A request got a reply that is no sign of overload (200, 400, 413...)."""
        with self._lock:
            self._latencies.append(seconds)

    def overloaded(self) -> None:
        """A request met a 429, a 5xx or a timeout."""
        with self._lock:
            self._overloads += 1

    def adjust(self) -> Change | None:
        """Between groups: the new limit, or None when it stays (the window starts again
        only when a verdict was reached: a round not yet complete keeps accumulating)."""
        with self._lock:
            before = self.limit
            if self._overloads:
                overloads = self._overloads
                self._latencies, self._overloads = [], 0
                self._quiet = QUIET_ROUNDS
                self.slow_start = False
                self.limit = max(1, int(before * DECREASE))
                if self.limit == before:
                    return None
                return Change(self.limit, before, f"{overloads} request(s) refused or timed out")
            if len(self._latencies) < before:
                return None  # not a full round at this limit yet
            median = statistics.median(self._latencies)
            self._latencies = []
            if self._baseline is None or median < self._baseline:
                self._baseline = median
            quiet, self._quiet = self._quiet > 0, max(0, self._quiet - 1)
            if median > self._baseline * SLOW_FACTOR:
                self.slow_start = False  # queueing begins: probe one sender at a time now
                return None
            # Hold when the round came right after a decrease, or at the maximum.
            if quiet or before >= self.maximum:
                return None
            self.limit = min(self.maximum, before * 2) if self.slow_start else before + 1
            return Change(self.limit, before, f"replies in {median:.3f} s, none refused")


class Gate:
    """A semaphore whose size changes while threads wait on it."""

    def __init__(self, limit: int) -> None:
        self._cond = threading.Condition()
        self._limit = limit
        self._busy = 0
        self.peak = 0  # most requests ever through at once (tests, logs)

    @property
    def limit(self) -> int:
        return self._limit

    def resize(self, limit: int) -> None:
        """Let ``limit`` requests through at once from now on (those inside finish)."""
        with self._cond:
            self._limit = limit
            self._cond.notify_all()

    def __enter__(self) -> Gate:
        with self._cond:
            while self._busy >= self._limit:
                self._cond.wait()
            self._busy += 1
            self.peak = max(self.peak, self._busy)
        return self

    def __exit__(self, *exc: object) -> None:
        with self._cond:
            self._busy -= 1
            self._cond.notify()
