"""The script a typical user writes: pandas read, a per-row loop, phonenumbers on every row.

It is the yardstick for ``bench_ingest.py`` (which runs it on the same file and prints the
ratio); it is not part of the tool. Usage::

    .venv/bin/python -m benchmarks.naive_baseline benchmarks/data/ingest_1000000.csv
"""

from __future__ import annotations

import argparse
import time

import pandas as pd
import phonenumbers

from benchmarks._common import peak_rss_mb


def run(path: str, phone_column: str = "Телефон", region: str = "RU") -> tuple[int, int, float]:
    """Return (rows, accepted, seconds) for the naive loop over ``path``."""
    start = time.perf_counter()
    frame = pd.read_csv(path, sep=";", dtype=str, encoding="utf-8-sig", keep_default_na=False)
    accepted: list[dict[str, str]] = []
    rejected: list[int] = []
    seen: set[tuple[str, str, str]] = set()
    for index, row in frame.iterrows():
        try:
            number = phonenumbers.parse(str(row[phone_column]), region)
        except phonenumbers.NumberParseException:
            rejected.append(int(str(index)))
            continue
        if not phonenumbers.is_valid_number(number):
            rejected.append(int(str(index)))
            continue
        phone = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)[1:]
        key = (phone, str(row["ФИО"]), str(row["Сумма"]))
        if key in seen:
            continue
        seen.add(key)
        accepted.append({"phone": phone, "name": str(row["ФИО"]), "debt": str(row["Сумма"])})
    return len(frame), len(accepted), time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("path")
    args = parser.parse_args()
    rows, accepted, seconds = run(args.path)
    print(
        f"naive baseline: {rows:,} rows ({accepted:,} accepted) in {seconds:.2f} s = "
        f"{rows / seconds:,.0f} rows/s (peak RSS {peak_rss_mb():.0f} MB)",
        flush=True,
    )


if __name__ == "__main__":
    main()
