"""Produce the next item of an iterator in a thread while the caller works on the current one.

Usage::

    with closing(prefetched(read_and_transform(path))) as chunks:
        for chunk in chunks:                               # reading chunk k+1 ...
            ledger.planning.plan_chunk(lease, input_id, chunk)      # ... while chunk k is inserted

Close it (``closing``) before the source's resources go away: closing stops and joins the
producer, which an abandoned generator would only do when it is garbage-collected.

Why: planning alternates CPU work in Python (read + transform a chunk) with SQLite inserting the
previous one, and the sqlite3 driver releases the GIL while the database works, so on two cores
the two overlap. One item is produced ahead at most (memory stays at two chunks). Items arrive in
order; an exception of the producer is raised in the caller at the point where its item would
have arrived; when the caller stops early, the producer is told to stop and joined.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Generator, Iterable
from typing import Generic, TypeVar

T = TypeVar("T")

_POLL_S = 0.05  # how often a blocked producer checks whether the caller has gone away


class _Done:
    pass


_DONE = _Done()


class _Failed:
    def __init__(self, error: BaseException) -> None:
        self.error = error


class _Producer(Generic[T]):
    def __init__(self, source: Iterable[T]) -> None:
        self.source = source
        self.slot: queue.Queue[T | _Done | _Failed] = queue.Queue(maxsize=1)
        self.stop = threading.Event()

    def put(self, item: T | _Done | _Failed) -> bool:
        while not self.stop.is_set():
            try:
                self.slot.put(item, timeout=_POLL_S)
            except queue.Full:
                continue
            return True
        return False

    def run(self) -> None:
        try:
            for item in self.source:
                if not self.put(item):
                    return
        except BaseException as exc:  # handed to the caller's thread, raised there
            self.put(_Failed(exc))
            return
        self.put(_DONE)


def prefetched(source: Iterable[T], *, name: str = "prefetch") -> Generator[T, None, None]:
    """Yield the items of ``source`` in order, producing each next one in a helper thread."""
    producer = _Producer(source)
    thread = threading.Thread(target=producer.run, name=name, daemon=True)
    thread.start()
    try:
        while True:
            item = producer.slot.get()
            if isinstance(item, _Done):
                return
            if isinstance(item, _Failed):
                raise item.error
            yield item
    finally:
        producer.stop.set()
        thread.join()
