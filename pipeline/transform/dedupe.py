"""Duplicates inside one input file, by the policy in ``dedupe.key``.

Only what the decision needs is kept: one compact key per accepted row → its row number
(an ``int`` for the phone alone, a 16-byte BLAKE2 digest when payload and policy take part),
so memory grows with distinct accepted rows, never with the cells themselves.

Usage::

    seen = Deduper("phone_payload")
    seen.first_row(item)   # None: first time; else the row this item repeats
"""

from __future__ import annotations

from hashlib import blake2b
from typing import Literal

from pipeline.records import CallItem


class Deduper:
    """Remembers accepted rows and says which earlier row a new one repeats."""

    def __init__(self, key: Literal["phone_payload", "phone", "none"]) -> None:
        self.key = key
        self._seen: dict[int | bytes, int] = {}

    def first_row(self, item: CallItem) -> int | None:
        """The row ``item`` repeats, or ``None`` (and ``item`` is remembered as a first)."""
        if self.key == "none":
            return None
        key: int | bytes
        if self.key == "phone" or not (item.payload or item.policy):
            key = int(item.phone)
        else:
            # repr of the (ordered) items is canonical here: the transform builds payload and
            # policy in config order, so equal rows produce equal text.
            text = f"{item.phone}\x00{tuple(item.payload.items())!r}\x00{item.policy!r}"
            key = blake2b(text.encode("utf-8"), digest_size=16).digest()
        first = self._seen.get(key)
        if first is None:
            self._seen[key] = item.row
        return first

    def __len__(self) -> int:
        return len(self._seen)
