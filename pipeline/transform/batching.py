"""Cut accepted items into addPhones batches with no phone twice in one batch (streaming).

The rule is the planner's (``pipeline.ledger.split_batches``): items in row order fill a
batch; an item whose phone is already in the batch waits at the front for the next one. The
``validate --emit-batches`` dry run uses this to show the bodies the planner would freeze.

Usage::

    cutter = BatchCutter(batch_size=500)
    for item in items:
        for batch in cutter.add(item):   # full batches, as soon as they are certain
            ...
    for batch in cutter.finish():        # the rest, the last one possibly short
        ...
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator

from pipeline.records import CallItem


class BatchCutter:
    """Streaming batch cutter; holds at most about one batch of items."""

    def __init__(self, batch_size: int) -> None:
        if batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        self.batch_size = batch_size
        self._queue: deque[CallItem] = deque()

    def add(self, item: CallItem) -> Iterator[list[CallItem]]:
        """Queue ``item``; yield every batch that can no longer change."""
        self._queue.append(item)
        if len(self._queue) >= self.batch_size:
            yield from self._cut(final=False)

    def finish(self) -> Iterator[list[CallItem]]:
        """Yield the remaining batches."""
        yield from self._cut(final=True)

    def _cut(self, *, final: bool) -> Iterator[list[CallItem]]:
        while self._queue:
            batch: list[CallItem] = []
            phones: set[str] = set()
            waiting: list[CallItem] = []
            while self._queue and len(batch) < self.batch_size:
                item = self._queue.popleft()
                if item.phone in phones:
                    waiting.append(item)
                else:
                    batch.append(item)
                    phones.add(item.phone)
            if len(batch) < self.batch_size and not final:
                # not full yet: put everything back in row order and wait for more items
                self._queue.extendleft(sorted(batch + waiting, key=lambda i: i.row, reverse=True))
                return
            yield batch
            self._queue.extendleft(reversed(waiting))
