"""split_batches: full batches, no phone twice in one, every row exactly once, order kept —
for the planner's rows and for ``validate --emit-batches``' accepted items, fed a chunk at a
time."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.ledger import split_batches
from pipeline.ledger.transitions.bodies import PlannedRow
from pipeline.records import CallItem


def _rows(phones: list[int]) -> list[PlannedRow]:
    return [PlannedRow(i + 1, i + 1, f"7916{p:07d}", "{}", "{}") for i, p in enumerate(phones)]


@given(st.lists(st.integers(0, 6), max_size=60), st.integers(1, 8), st.booleans())
def test_split_batches_properties(phones: list[int], size: int, final: bool) -> None:
    rows = _rows(phones)
    batches, leftover = split_batches(rows, size, final=final)
    seen = [r.id for b in batches for r in b] + [r.id for r in leftover]
    assert sorted(seen) == [r.id for r in rows]
    for batch in batches:
        assert 1 <= len(batch) <= size
        assert len({r.phone for r in batch}) == len(batch)
    if final:
        assert leftover == []
    else:
        assert all(len(b) == size for b in batches)
        assert leftover == sorted(leftover, key=lambda r: r.id)


def test_rows_keep_file_order_when_phones_differ() -> None:
    batches, leftover = split_batches(_rows([1, 2, 3, 4, 5]), 2, final=False)
    assert [[r.id for r in b] for b in batches] == [[1, 2], [3, 4]]
    assert [r.id for r in leftover] == [5]


def _cut(phones: list[str], size: int) -> list[list[CallItem]]:
    """Items fed one at a time, as validate's chunks may be that small."""
    out: list[list[CallItem]] = []
    carry: list[CallItem] = []
    for row, phone in enumerate(phones, 1):
        batches, carry = split_batches([*carry, CallItem(row=row, phone=phone)], size, final=False)
        out.extend(batches)
    out.extend(split_batches(carry, size, final=True)[0])
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


@given(st.lists(st.integers(0, 6), max_size=60), st.integers(1, 8), st.integers(1, 9))
def test_chunks_cut_like_the_whole(phones: list[int], size: int, chunk: int) -> None:
    """Fed in chunks with the leftover carried, the batches are those of the whole at once."""
    rows = _rows(phones)
    whole, _ = split_batches(rows, size, final=True)
    cut: list[list[PlannedRow]] = []
    carry: list[PlannedRow] = []
    for at in range(0, len(rows), chunk):
        batches, carry = split_batches(carry + rows[at : at + chunk], size, final=False)
        cut.extend(batches)
    cut.extend(split_batches(carry, size, final=True)[0])
    assert cut == whole
