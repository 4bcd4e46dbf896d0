"""validate streams a file with the cyclic garbage collector paused (it walked millions of live
objects again and again: ~10 % of validate's CPU), and leaves it as it found it."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from pipeline.load.dryrun import csv_ranges
from pipeline.load.dryrun.dry_run import run_validate

from .phone_name_export import phone_name_export


@pytest.mark.parametrize("workers", [1, 2])
def test_the_collector_is_paused_while_the_file_is_read_and_restored_after(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, workers: int
) -> None:
    config, export = phone_name_export(tmp_path, (f"7916{n:07d},n{n}" for n in range(3000)))
    seen: list[bool] = []
    read = csv_ranges.read_range  # type: ignore[attr-defined]  # the name the module reads

    def watched(*args: Any, **kwargs: Any) -> Iterator[Any]:
        for chunk in read(*args, **kwargs):
            seen.append(gc.isenabled())
            yield chunk

    monkeypatch.setattr(csv_ranges, "read_range", watched)
    monkeypatch.setattr("pipeline.load.dryrun.dry_run.PARALLEL_MIN_BYTES", 0)
    assert gc.isenabled()
    summary = run_validate(config, export, now=datetime.now(UTC), workers=workers)
    assert summary.accepted == 3000
    assert seen and not any(seen)  # this process's chunks (a worker's are its own)
    assert gc.isenabled()


def test_a_collector_paused_by_the_caller_stays_paused(tmp_path: Path) -> None:
    config, export = phone_name_export(tmp_path, ["79161234567,a"])
    gc.disable()
    try:
        run_validate(config, export, now=datetime.now(UTC))
        assert not gc.isenabled()
    finally:
        gc.enable()
