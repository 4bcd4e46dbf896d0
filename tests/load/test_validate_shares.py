"""How much of a big CSV this process reads itself when workers read the rest: a little less
than a worker when it only settles their verdicts, the least share when it also writes the
output files (writing a row costs more than classifying one); the counts never depend on it."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from pipeline.extract.ranges import CsvRange
from pipeline.load.dryrun import csv_ranges
from pipeline.load.dryrun.dry_run import run_validate

from .phone_name_export import phone_name_export


@pytest.mark.parametrize("writes", [False, True])
def test_the_first_range_is_smaller_and_least_when_this_process_writes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, writes: bool
) -> None:
    rows = [f"7916{n % 2500:07d},n{n % 2500}" for n in range(5000)]  # half of them repeats
    config, export = phone_name_export(tmp_path, rows)
    plans: list[list[CsvRange]] = []
    plan = csv_ranges.plan_ranges  # type: ignore[attr-defined]  # the name the module reads

    def watched(*args: Any, **kwargs: Any) -> list[CsvRange] | None:
        parts: list[CsvRange] | None = plan(*args, **kwargs)
        assert parts is not None
        plans.append(parts)
        return parts

    monkeypatch.setattr(csv_ranges, "plan_ranges", watched)
    monkeypatch.setattr("pipeline.load.dryrun.dry_run.PARALLEL_MIN_BYTES", 0)
    accepted = tmp_path / "accepted.csv" if writes else None
    summary = run_validate(config, export, now=datetime.now(UTC), workers=2, accepted=accepted)
    assert (summary.read, summary.accepted, summary.duplicate) == (5000, 2500, 2500)
    [parts] = plans
    sizes = [part.end - part.start for part in parts]
    share = sizes[0] / sum(sizes)
    if writes:
        assert abs(share - csv_ranges.MIN_SHARE) < 0.01
        assert accepted is not None and len(accepted.read_text().splitlines()) == 2501
    else:
        assert 0.4 < share < 0.5
        assert abs(share - csv_ranges.parent_share(2)) < 0.01
