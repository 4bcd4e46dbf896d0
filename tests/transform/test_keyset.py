"""The compact key → row map must answer exactly like a plain dict, whatever the batches."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.transform.dedupe import Deduper
from pipeline.transform.keyset import KeyRowMap

_KEYS = st.integers(min_value=-(2**63), max_value=2**63 - 1) | st.integers(-5, 5)


@settings(max_examples=200, deadline=None)
@given(batches=st.lists(st.lists(_KEYS, max_size=40), max_size=25), max_run=st.integers(1, 64))
def test_lookups_match_a_plain_dict(batches: list[list[int]], max_run: int) -> None:
    seen, reference = KeyRowMap(max_run=max_run), dict[int, int]()
    row = 1
    for batch in batches:
        assert seen.lookup(batch) == [reference.get(k) for k in batch]
        new = list(dict.fromkeys(k for k in batch if k not in reference))
        rows = list(range(row, row + len(new)))
        row += len(new)
        seen.insert(new, rows)
        reference.update(zip(new, rows, strict=True))
        assert len(seen) == len(reference)
    everything = [*reference, 7, -7, 2**62]
    assert seen.lookup(everything) == [reference.get(k) for k in everything]


def test_runs_stay_few_and_bounded_in_size() -> None:
    seen = KeyRowMap(max_run=1000)
    for chunk in range(100):
        seen.insert(range(chunk * 100, chunk * 100 + 100), range(1, 101))
    assert seen.runs <= 10 + 4  # ten full runs of 1000, plus a binary tail of smaller ones
    assert seen.lookup([0, 9_999, 10_000]) == [1, 100, None]


def _reference_firsts(chunks: list[list[tuple[int, int]]]) -> list[list[int | None]]:
    first: dict[int, int] = {}
    out = []
    for chunk in chunks:
        answers: list[int | None] = []
        for key, row in chunk:
            earlier = first.setdefault(key, row)
            answers.append(None if earlier == row else earlier)
        out.append(answers)
    return out


@settings(max_examples=200, deadline=None)
@given(keys=st.lists(st.lists(st.integers(0, 30), max_size=20), max_size=10))
def test_first_rows_point_at_the_first_row_across_chunks(keys: list[list[int]]) -> None:
    deduper, row, chunks = Deduper("phone"), 1, []
    for chunk_keys in keys:
        chunks.append([(k, row + i) for i, k in enumerate(chunk_keys)])
        row += len(chunk_keys)
    got = [deduper.first_rows([k for k, _ in c], [r for _, r in c]) for c in chunks]
    assert got == _reference_firsts(chunks)


def test_dedupe_keys_follow_the_policy() -> None:
    by_phone = Deduper("phone")
    assert by_phone.keys(["79160000001"], [("x",)]) == [79160000001]
    both = Deduper("phone_payload")
    a, b, c = both.keys(["79160000001"] * 3, [("x",), ("x",), ("y",)])
    assert a == b != c
    keep_all = Deduper("none")
    assert keep_all.first_rows(keep_all.keys(["1", "1"], [(), ()]), [1, 2]) == [None, None]


@settings(max_examples=50)
@given(
    st.lists(
        st.tuples(st.sampled_from(["79160000001", "79160000002", "7" * 19]), st.text(max_size=3)),
        max_size=20,
    ),
    st.sampled_from(["phone", "phone_payload", "none"]),
)
def test_keys_by_column_are_the_keys_of_the_rows(rows: list[tuple[str, str]], key: str) -> None:
    # the plain rows of a chunk are keyed column by column, the careful ones row by row:
    # a row must get the same key either way, or a duplicate would pass as a first
    deduper = Deduper(key)  # type: ignore[arg-type]  # one of the three policies
    phones = [phone for phone, _ in rows]
    names = [name for _, name in rows]
    by_row = deduper.keys(phones, [(name, "x") for name in names])
    assert deduper.keys_by_column(phones, [names, ["x"] * len(rows)]) == by_row
