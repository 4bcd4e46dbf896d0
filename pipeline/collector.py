"""The cyclic garbage collector paused while a file streams through.

A run over a big export allocates millions of lists, tuples and dicts (a file's cells, each
chunk's verdicts and keys) and next to no reference cycles; with the collector on it keeps
walking objects that are all alive. Measured on the realistic 1M-row benchmark file: ~0.8 of
~8 CPU-s of ``validate``, and more than half the cost of building a chunk's ledger values.
The few cycles left (~10,000 objects per million rows) are collected once it runs again.

Usage::

    with gc_paused():
        ...  # read, check, plan
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def gc_paused() -> Iterator[None]:
    """The collector paused inside; left as found if something else paused it already."""
    paused = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if paused:
            gc.enable()
