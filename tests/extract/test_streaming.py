"""Memory stays flat as files grow: chunks are produced lazily, never the whole file."""

from __future__ import annotations

import tracemalloc
from pathlib import Path

from pipeline.extract import ReadOptions, open_table


def _write_csv(path: Path, rows: int) -> None:
    with path.open("w", encoding="utf-8", newline="") as fh:
        fh.write("phone;name;comment\r\n")
        for i in range(rows):
            fh.write(f'7916{i:07d};Клиент {i};"note, {i}"\r\n')


def _peak_while_reading(path: Path) -> tuple[int, int]:
    tracemalloc.start()
    try:
        count = 0
        with open_table(path, ReadOptions(chunk_size=1000)) as table:
            for chunk in table.chunks():
                count += len(chunk.rows)
        return count, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_peak_memory_does_not_grow_with_the_file(tmp_path: Path) -> None:
    small, large = tmp_path / "small.csv", tmp_path / "large.csv"
    _write_csv(small, 20_000)
    _write_csv(large, 80_000)
    small_rows, small_peak = _peak_while_reading(small)
    large_rows, large_peak = _peak_while_reading(large)
    assert (small_rows, large_rows) == (20_000, 80_000)
    # Four times the rows; a reader that kept them would need about four times the memory.
    assert large_peak < small_peak * 1.5, (small_peak, large_peak)
