"""Duplicates inside one input file, by the policy in ``dedupe.key``.

Only what the decision needs is kept: one ``int`` per accepted row → its row number. The key
is the phone itself (exact) shifted left 64 bits, plus a 64-bit hash of the payload and policy
values. Two different rows can only collide when they have the *same phone* and their values'
hashes agree — odds of 2^-64 per pair of rows sharing a phone — while memory stays at one
small int per distinct row instead of the cells themselves.

Usage::

    seen = Deduper("phone_payload")
    seen.first_row(item)   # None: first time; else the row this item repeats
"""

from __future__ import annotations

from typing import Literal

from pipeline.records import CallItem

_MASK = (1 << 64) - 1


class Deduper:
    """Remembers accepted rows and says which earlier row a new one repeats."""

    def __init__(self, key: Literal["phone_payload", "phone", "none"]) -> None:
        self.key = key
        self._seen: dict[int, int] = {}

    def first_row(self, item: CallItem) -> int | None:
        """The row ``item`` repeats, or ``None`` (and ``item`` is remembered as a first)."""
        if self.key == "none":
            return None
        key = int(item.phone) << 64
        if self.key == "phone_payload" and (item.payload or item.policy):
            # Field order is config order for every row, so equal rows give equal tuples; repr
            # makes list/dict policy values (allowedDays, allowedTime) hashable.
            values = (tuple(item.payload.items()), repr(item.policy) if item.policy else "")
            key |= hash(values) & _MASK
        first = self._seen.get(key)
        if first is None:
            self._seen[key] = item.row
        return first

    def __len__(self) -> int:
        return len(self._seen)
