"""split_batches: full batches, no phone twice in one, every row exactly once, order kept."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from pipeline.ledger import split_batches
from pipeline.ledger.transitions.bodies import PlannedRow


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
