"""A compact map from 64-bit keys to row numbers: 12 bytes per entry, no Python objects.

The in-file dedupe remembers one key per accepted row. A ``dict[int, int]`` costs ~100 bytes
per entry, so memory grew with the file; here the keys live in sorted numpy runs (``int64``
keys beside ``uint32`` rows) and a chunk of keys is answered with one ``searchsorted`` per run.
In front of the runs, a fixed 8 MiB of flags (one per hashed slot) answers most lookups of new
keys without a search: a key whose slot was never flagged was never inserted.

Runs are merged like a binary counter (two runs of similar size become one), which keeps their
number logarithmic, but never beyond ``max_run`` entries: merging copies both runs, and a merge
of two huge runs would briefly double the memory this structure exists to bound.

Usage::

    seen = KeyRowMap()
    seen.lookup([11, 12])          # [None, None]
    seen.insert([11, 12], [1, 2])  # keys must be new and distinct
    seen.lookup([12, 13])          # [2, None]
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

Keys = npt.NDArray[np.int64]
Rows = npt.NDArray[np.uint32]

MAX_RUN = 1 << 18  # ~3 MB per run: the largest transient copy a merge can make
# One flag per slot of a hash of the key: a key whose slot is unflagged was never inserted, so
# most lookups of new keys end there instead of in a binary search of every run. 8 MiB, paged
# in only as slots are flagged; ~11 % of the slots flagged after 1M keys, 30 % after 3M.
FILTER_BITS = 23
_MIX = np.uint64(0x9E3779B97F4A7C15)  # Fibonacci hashing: the slot is the product's top bits
_SHIFT = np.uint64(64 - FILTER_BITS)


class KeyRowMap:
    """Insert-only map ``int64 key → row number`` (rows below 2**32)."""

    def __init__(self, *, max_run: int = MAX_RUN) -> None:
        self.max_run = max_run
        self._runs: list[tuple[Keys, Rows]] = []
        self._size = 0
        self._flags = np.zeros(1 << FILTER_BITS, dtype=np.bool_)

    def lookup(self, keys: Sequence[int] | Keys) -> list[int | None]:
        """The row stored for each key, or ``None`` where the key is unknown."""
        found = self.lookup_array(np.asarray(keys, dtype=np.int64))
        return [int(row) if row else None for row in found.tolist()]

    def lookup_array(self, keys: Keys) -> npt.NDArray[np.int64]:
        """:meth:`lookup` for an ``int64`` array: the rows, ``0`` where a key is unknown
        (rows start at 1)."""
        found = np.zeros(len(keys), dtype=np.int64)
        if not len(keys) or not self._runs:
            return found
        maybe = np.flatnonzero(self._flags[_slots(keys)])
        if not len(maybe):
            return found
        # sorted queries make searchsorted walk each run once instead of seeking at random
        order = maybe[np.argsort(keys[maybe], kind="stable")]
        ordered = keys[order]
        hits = np.zeros(len(ordered), dtype=np.int64)
        for run_keys, run_rows in self._runs:
            at = np.searchsorted(run_keys, ordered)
            np.minimum(at, len(run_keys) - 1, out=at)
            match = run_keys[at] == ordered
            hits[match] = run_rows[at[match]]
        found[order] = hits
        return found

    def insert(self, keys: Sequence[int] | Keys, rows: Sequence[int]) -> None:
        """Remember new, pairwise distinct ``keys`` with their rows (not checked: the caller
        looked them up first)."""
        if len(keys) == 0:
            return
        new_keys = np.asarray(keys, dtype=np.int64)
        new_rows = np.asarray(rows, dtype=np.uint32)
        order = np.argsort(new_keys, kind="stable")
        self._flags[_slots(new_keys)] = True
        self._runs.append((new_keys[order], new_rows[order]))
        self._size += len(new_keys)
        while len(self._runs) > 1:
            (a_keys, a_rows), (b_keys, b_rows) = self._runs[-2], self._runs[-1]
            if len(a_keys) > 2 * len(b_keys) or len(a_keys) + len(b_keys) > self.max_run:
                break
            self._runs[-2:] = [_merge(a_keys, a_rows, b_keys, b_rows)]

    @property
    def runs(self) -> int:
        """How many sorted runs a lookup searches (for tests and tuning)."""
        return len(self._runs)

    def __len__(self) -> int:
        return self._size


def _slots(keys: Keys) -> npt.NDArray[np.intp]:
    """Each key's slot among the flags (keys of any distribution spread evenly)."""
    mixed = np.ascontiguousarray(keys).view(np.uint64) * _MIX
    return (mixed >> _SHIFT).astype(np.intp)


def _merge(a_keys: Keys, a_rows: Rows, b_keys: Keys, b_rows: Rows) -> tuple[Keys, Rows]:
    """Merge two sorted runs with disjoint keys into one sorted run."""
    # Where each b key lands in the output: its place among the a keys plus the b keys before it.
    at_b = np.searchsorted(a_keys, b_keys) + np.arange(len(b_keys))
    size = len(a_keys) + len(b_keys)
    is_b = np.zeros(size, dtype=bool)
    is_b[at_b] = True
    keys = np.empty(size, dtype=np.int64)
    rows = np.empty(size, dtype=np.uint32)
    keys[at_b], rows[at_b] = b_keys, b_rows
    keys[~is_b], rows[~is_b] = a_keys, a_rows
    return keys, rows
