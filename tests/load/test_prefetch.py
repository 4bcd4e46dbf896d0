"""prefetched(): order kept, the producer's errors raised in the caller, early close joins it."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import closing

import pytest

from pipeline.errors import InputFileError
from pipeline.load.upload.prefetch import prefetched


def _threads(name: str) -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == name]


def test_items_arrive_in_order_and_are_produced_in_another_thread() -> None:
    producers: set[str] = set()

    def source() -> Iterator[int]:
        for n in range(50):
            producers.add(threading.current_thread().name)
            yield n

    with closing(prefetched(source(), name="t-order")) as items:
        assert list(items) == list(range(50))
    assert producers == {"t-order"}
    assert _threads("t-order") == []


def test_a_producer_error_is_raised_where_its_item_would_have_arrived() -> None:
    def source() -> Iterator[int]:
        yield 1
        yield 2
        raise InputFileError("export.csv: line 3 is broken")

    got: list[int] = []
    with (
        pytest.raises(InputFileError, match="line 3"),
        closing(prefetched(source(), name="t-error")) as items,
    ):
        for n in items:
            got.append(n)
    assert got == [1, 2]
    assert _threads("t-error") == []


def test_closing_early_stops_the_producer_and_joins_it() -> None:
    produced: list[int] = []

    def source() -> Iterator[int]:
        for n in range(1_000_000):
            produced.append(n)
            yield n

    with closing(prefetched(source(), name="t-early")) as items:
        assert next(items) == 0
        assert next(items) == 1
    assert _threads("t-early") == []
    assert len(produced) <= 4  # at most one ahead, plus the one blocked in the hand-over
