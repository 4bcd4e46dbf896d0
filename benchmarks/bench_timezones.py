"""Time zones and calling windows: coverage of the Russian mobile table, and the cost per row.

Prints:

* coverage: the share of the Russian mobile number space (``79`` + 9 digits, 10^9 numbers)
  whose longest prefix in ``ru_mobile_zones.tsv`` gives exactly one zone, several zones, an
  unknown region, or no entry at all — exact, by walking the prefix tree (no sampling);
* the cost of each check alone on ``--rows`` distinct phones (zone decision; window decision;
  both as the transform applies them), in rows/s;
* the whole transform of the ingest benchmark's CSV (``--rows`` rows) without and with
  ``policy.timezone`` + ``policy.window``, interleaved ``--repeat`` times (a shared machine is
  noisy), with the load average.

Usage::

    .venv/bin/python -m benchmarks.bench_timezones                 # 1M rows
    .venv/bin/python -m benchmarks.bench_timezones --rows 100000   # quick look
"""

from __future__ import annotations

import argparse
import os
import random
import time
from datetime import UTC, datetime
from importlib import resources
from typing import Any

from benchmarks._common import Stage
from benchmarks.bench_ingest import CONFIG, make_csv

NOW = datetime(2027, 3, 10, 9, 0, tzinfo=UTC)
ZONES_CONFIG = (
    CONFIG
    + """policy:
  timezone: {from: number, fallback: reject}
  window: {preset: ru-230fz}
"""
)


def coverage() -> dict[str, int]:
    """Numbers of the 79XXXXXXXXX space by what their longest table prefix says."""
    text = resources.files("pipeline.transform.data").joinpath("ru_mobile_zones.tsv")
    table = dict(line.split("\t") for line in text.read_text(encoding="utf-8").splitlines())
    nodes = {key[:size] for key in table for size in range(2, len(key) + 1)}
    out = {"one zone": 0, "several zones": 0, "unknown region": 0, "no entry": 0}

    def walk(prefix: str, current: str | None) -> int:
        current = table.get(prefix, current)
        size: int
        size = 10 ** (11 - len(prefix))
        inside = 0
        for digit in "0123456789":
            child = prefix + digit
            if child in nodes:
                inside += walk(child, current)
        rest = size - inside
        if current is None:
            out["no entry"] += rest
        elif current == "?":
            out["unknown region"] += rest
        elif "," in current:
            out["several zones"] += rest
        else:
            out["one zone"] += rest
        return size

    walk("79", None)
    return out


def phones(n: int) -> list[str]:
    """Distinct-ish phones as the transform hands them on: 80% mobile, 20% fixed lines."""
    rnd = random.Random(5)
    fixed = ["7495", "7812", "7383", "7423", "74012", "7343", "7846"]
    out = []
    for _ in range(n):
        head = "79" if rnd.random() < 0.8 else rnd.choice(fixed)
        out.append(head + "".join(rnd.choice("0123456789") for _ in range(11 - len(head))))
    return out


def bench_checks(n: int) -> None:
    from pipeline.config import parse_config
    from pipeline.transform.timezones import ZoneDecider
    from pipeline.transform.timezones_rules import CallingRules
    from pipeline.transform.windows import PRESETS, WindowDecider

    numbers = phones(n)
    zones = ZoneDecider(use_number=True, fallback=None)
    with Stage("zone decision (column empty → number → fallback)", rows=n):
        for phone in numbers:
            zones.decide(phone)
    windows = WindowDecider(PRESETS["ru-230fz"], now=NOW)
    policy: dict[str, Any] = {"gmtZone": "Europe/Moscow"}
    with Stage("window decision (ru-230fz, holidays on)", rows=n):
        for phone in numbers:
            windows.decide(phone, policy)
    cfg = parse_config(
        {
            "policy": {
                "timezone": {"from": "number", "fallback": "reject"},
                "window": {"preset": "ru-230fz"},
            }
        },
        environ={},
    )
    rules = CallingRules.from_config(cfg, now=NOW)
    assert rules is not None
    with Stage("both, as the transform applies them (apply_many)", rows=n):
        rules.apply_many(numbers, {})


def transform_once(path: str, config: str) -> tuple[float, int]:
    import yaml

    from pipeline.config import parse_config
    from pipeline.extract import ReadOptions, open_table
    from pipeline.transform.assembly import RowTransformer

    cfg = parse_config(yaml.safe_load(config), environ={})
    spent, rows = 0.0, 0
    with open_table(path, ReadOptions()) as table:
        transformer = RowTransformer(cfg, table.info.header, now=NOW)
        for chunk in table.chunks():
            start = time.perf_counter()
            result = transformer.transform(chunk)
            spent += time.perf_counter() - start
            rows += len(result.items) + len(result.rejections) + len(result.duplicates)
    return spent, rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()

    counts = coverage()
    total = sum(counts.values())
    listed = total - counts["no entry"]
    print(f"Russian mobile space 79XXXXXXXXX: {total:,} numbers")
    for name, count in counts.items():
        print(f"  {name:<15} {count:>13,}  {count / total:6.1%}")
    print(f"  one zone among the numbers the table lists: {counts['one zone'] / listed:.1%}")

    bench_checks(args.rows)

    path = str(make_csv(args.rows))
    print(f"load average before the transform runs: {os.getloadavg()}")
    for _ in range(args.repeat):
        for name, config in (
            ("transform, no zones", CONFIG),
            ("transform, zones+230fz", ZONES_CONFIG),
        ):
            spent, rows = transform_once(path, config)
            print(f"{name}: {rows:,} rows in {spent:.2f} s = {rows / spent:,.0f} rows/s")
    print(f"load average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
