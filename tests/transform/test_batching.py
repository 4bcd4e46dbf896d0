"""Batches never hold a phone twice, keep every item once, and stream."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.records import CallItem
from pipeline.transform.batching import BatchCutter


def _cut(phones: list[str], size: int) -> list[list[CallItem]]:
    cutter = BatchCutter(size)
    out: list[list[CallItem]] = []
    for row, phone in enumerate(phones, 1):
        out.extend(cutter.add(CallItem(row=row, phone=phone)))
    out.extend(cutter.finish())
    return out


def test_repeated_phone_waits_for_the_next_batch() -> None:
    batches = _cut(["1", "1", "2", "3", "4"], 2)
    assert [[i.row for i in b] for b in batches] == [[1, 3], [2, 4], [5]]


@settings(max_examples=200, deadline=None)
@given(phones=st.lists(st.sampled_from("abcdef"), max_size=60), size=st.integers(1, 7))
def test_every_item_once_no_phone_twice(phones: list[str], size: int) -> None:
    batches = _cut(phones, size)
    rows = sorted(i.row for b in batches for i in b)
    assert rows == list(range(1, len(phones) + 1))
    for batch in batches:
        assert 0 < len(batch) <= size
        assert len({i.phone for i in batch}) == len(batch)
