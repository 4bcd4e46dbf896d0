"""validate's time-zone preview: rows with a zone by source, rows rejected for none, top
zones — the same counts from one process and from several."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from pipeline.config import parse_config
from pipeline.load.dryrun import format_summary, run_validate

NOW = datetime(2030, 3, 1, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize("workers", [1, 3])
def test_the_preview_counts_rows_by_zone_source(tmp_path: Path, workers: int) -> None:
    rows = ["phone,zone"]
    rows += ["79241234567,"] * 40  # Vladivostok mobile range
    rows += ["74012123456,"] * 30  # Kaliningrad area code
    rows += ["79161234567,+05:00"] * 20  # the column wins
    rows += ["79400000000,"] * 10  # no zone: rejected
    path = tmp_path / "in.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    config = parse_config(
        {
            "columns": {"phone": "phone", "policy": {"gmtZone": "zone"}},
            "policy": {"timezone": {"from": "number", "fallback": "reject"}},
            "dedupe": {"key": "none"},
        },
        environ={},
    )
    summary = run_validate(config, path, now=NOW, workers=workers)
    assert dict(summary.zones) == {
        ("mobile_range", "Asia/Vladivostok"): 40,
        ("number_prefix", "Europe/Kaliningrad"): 30,
        ("column", "+05:00"): 20,
    }
    text = "\n".join(format_summary(summary))
    assert "time zones: 90 rows with a zone" in text
    assert (
        "from the Russian mobile range" in text and "rejected: no zone (timezone_unknown)" in text
    )
    assert "top zones: Asia/Vladivostok 40, Europe/Kaliningrad 30, +05:00 20" in text


def test_no_preview_when_nothing_decides_zones(tmp_path: Path) -> None:
    path = tmp_path / "in.csv"
    path.write_text("phone\n79241234567\n", encoding="utf-8")
    config = parse_config({"columns": {"phone": "phone"}}, environ={})
    summary = run_validate(config, path, now=NOW, workers=1)
    assert not summary.zones and "time zones" not in "\n".join(format_summary(summary))
