"""Duplicates inside one input file, by the policy in ``dedupe.key``, a chunk at a time.

Only what the decision needs is kept: one 64-bit key per accepted row and its row number, in
a :class:`~pipeline.transform.keyset.KeyRowMap` (12 bytes per row and 8 MiB of flags, so
memory stays nearly flat as files grow). The key is:

* ``phone``: the phone's digits as an integer — exact;
* ``phone_payload``: Python's 64-bit ``hash`` of ``(phone, *values)``, where ``values``
  stands for the payload and per-row policy in config order (the caller builds it the same
  way for every row; :meth:`Deduper.keys_by_column` gives the same keys from columns). String
  hashes are SipHash with a per-process random key, so two different rows share a key by
  chance only: odds about n²/2⁶⁵ for a file of n rows (3·10⁻⁷ for 3M rows). The cost of such
  a collision is a row reported as ``duplicate`` of the row it collided with,
  visible in the rejects file — never a call to a wrong number.

Usage::

    seen = Deduper("phone_payload")
    keys = seen.keys(["79160000001", "79160000001"], [("A",), ("A",)])
    seen.first_rows(keys, [1, 2])   # [None, 1]: row 2 repeats row 1
    seen.keys_by_column(["79160000001"], [["A"]]) == keys[:1]   # True
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import Literal

import numpy as np
import numpy.typing as npt

from pipeline.transform.keyset import KeyRowMap

_INT64 = 1 << 63
Ints = Sequence[int] | npt.NDArray[np.int64]  # row numbers or keys, as a list or an array


class Deduper:
    """Remembers accepted rows and says which earlier row a new one repeats."""

    def __init__(self, key: Literal["phone_payload", "phone", "none"]) -> None:
        self.key = key
        self._seen = KeyRowMap()

    def keys(self, phones: Sequence[str], values: Sequence[tuple[Hashable, ...]]) -> list[int]:
        """The dedupe key of each accepted row (``values[i]`` belongs to ``phones[i]``)."""
        if self.key == "phone":
            return [int(p) if len(p) < 19 else hash(p) for p in phones]  # 18 digits fit int64
        if self.key == "none":
            return []
        return [hash((phone, *row)) for phone, row in zip(phones, values, strict=True)]

    def keys_by_column(
        self, phones: Sequence[str], columns: Sequence[Sequence[Hashable]]
    ) -> list[int]:
        """:meth:`keys` with the values given column by column (``columns[c][i]`` belongs to
        ``phones[i]``): the same keys without a tuple of values per row."""
        if self.key != "phone_payload":
            return self.keys(phones, [])
        return list(map(hash, zip(phones, *columns, strict=True)))

    def first_rows(self, keys: Ints, rows: Ints) -> list[int | None]:
        """For rows in file order: the earlier row each repeats, or ``None`` for a first.

        Firsts are remembered, so later chunks see them. With ``dedupe.key: none`` (``keys``
        empty) every row is a first.
        """
        if self.key == "none":
            return [None] * len(rows)
        if len(keys) == 0:
            return []
        per_row = self._origins(keys, rows)
        pairs = zip(per_row.tolist(), list(rows), strict=True)
        return [None if first == row else first for first, row in pairs]

    def count_repeats(self, keys: Ints, rows: Ints) -> int:
        """:meth:`first_rows` when only the number of repeats matters (same memory effect)."""
        if self.key == "none" or len(keys) == 0:
            return 0
        origins = self._origins(keys, rows)
        return int(np.count_nonzero(origins != np.asarray(rows, dtype=np.int64)))

    def _origins(self, keys: Ints, rows: Ints) -> npt.NDArray[np.int64]:
        """Each row's first row with the same key (itself for a first); remembers the firsts."""
        key_array = np.asarray(keys, dtype=np.int64)
        row_array = np.asarray(rows, dtype=np.int64)
        # Group equal keys: a stable sort keeps each group's rows in file order, so the first
        # of a group is the key's first row in this chunk.
        order = np.argsort(key_array, kind="stable")
        sorted_keys, sorted_rows = key_array[order], row_array[order]
        starts = np.empty(len(sorted_keys), dtype=bool)
        starts[0] = True
        np.not_equal(sorted_keys[1:], sorted_keys[:-1], out=starts[1:])
        distinct, first_here = sorted_keys[starts], sorted_rows[starts]
        earlier = self._seen.lookup_array(distinct)
        new = earlier == 0
        self._seen.insert(distinct[new], first_here[new].tolist())
        origin = np.where(new, first_here, earlier)  # the row every later copy points at
        per_row = np.empty(len(rows), dtype=np.int64)
        per_row[order] = origin[np.cumsum(starts) - 1]
        return per_row

    def __len__(self) -> int:
        return len(self._seen)
