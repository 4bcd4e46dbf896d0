"""What the report writers cost per row, and that their memory stays flat as files grow.

Usage::

    .venv/bin/python -m benchmarks.bench_outputs [--rows 10000,100000,1000000]
        [--formats xlsx,csv,jsonl] [--tables results,accepted]

For each table (a results file as ``results`` writes it: payload columns, our 13 columns,
two reportData keys; an accepted file as ``validate --accepted`` writes it), format and row
count, a fresh process writes the file through the real writer (ResultsWriter, or
open_output with the accepted kinds) and prints rows/s, CPU seconds, the file's size and its
peak RSS. Memory is flat when the peak RSS of 1,000,000 rows is that of 10,000. Each size
runs in its own process so one peak cannot hide another. Prints the load average too: the
machine is shared, compare numbers of one run with each other.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from benchmarks._common import peak_rss_mb
from pipeline.reports.formats import choose_format
from pipeline.reports.results import ResultFields, ResultsWriter
from pipeline.reports.tables import open_output

START = datetime(2026, 11, 30, 7, 0, tzinfo=UTC)
ACCEPTED = ["row", "phone", "payload.name", "payload.debt", "payload.due", "gmtZone"]


def write_results(path: Path, rows: int) -> None:
    """``rows`` result lines, every column filled the way a finished campaign fills them."""
    with ResultsWriter(
        path,
        leading=["payload.name", "payload.debt"],
        leading_kinds=["text", "decimal"],
        report_keys=["callResult", "comment"],
        tz=ZoneInfo("Europe/Moscow"),
    ) as out:
        for i in range(1, rows + 1):
            out.write(
                [f"Иванов Пётр {i}", f"{i % 100000}.50"],
                ResultFields(
                    file="night.csv",
                    row=i,
                    phone=f"7916{i:07d}",
                    state="sent",
                    job_id=str(5_000_000_000 + i),
                    job_status="longCallWithResult",
                    attempts=1 + i % 3,
                    call_result="PROMISED",
                    call_duration_s=30 + i % 200,
                    finished_at=START + timedelta(seconds=i),
                    fetched_at=START + timedelta(hours=9),
                    report_data={"callResult": "PROMISED", "comment": "перезвонить завтра"},
                ),
            )


def write_accepted(path: Path, rows: int) -> None:
    """``rows`` accepted lines with a decimal and a date payload field."""
    kinds = ["integer", "text", "text", "decimal", "date", "text"]
    with open_output(path, ACCEPTED, choose_format(path), kinds=kinds) as out:  # type: ignore[arg-type]
        for i in range(1, rows + 1):
            out.write_row(
                [str(i), f"7916{i:07d}", f"Иванов {i}", f"{i % 9999}.00", "2026-12-01", "+3"]
            )


def child(table: str, fmt: str, rows: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"{table}.{fmt}"
        started, cpu = time.perf_counter(), time.process_time()
        (write_results if table == "results" else write_accepted)(path, rows)
        wall, cpu = time.perf_counter() - started, time.process_time() - cpu
        size = path.stat().st_size / 1e6
    print(
        f"{table:8} {fmt:5} {rows:>9,} rows: {rows / wall:>9,.0f} rows/s, cpu {cpu:6.1f} s, "
        f"{size:7.1f} MB file, peak RSS {peak_rss_mb():5.0f} MB",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", default="10000,100000,1000000")
    parser.add_argument("--formats", default="xlsx,csv,jsonl")
    parser.add_argument("--tables", default="results,accepted")
    parser.add_argument("--child", nargs=3, metavar=("TABLE", "FORMAT", "ROWS"))
    args = parser.parse_args()
    if args.child:
        child(args.child[0], args.child[1], int(args.child[2]))
        return
    print(f"load average {os.getloadavg()}", flush=True)
    for table in args.tables.split(","):
        for fmt in args.formats.split(","):
            for rows in args.rows.split(","):
                command = [sys.executable, "-m", "benchmarks.bench_outputs", "--child"]
                subprocess.run([*command, table, fmt, rows], check=True)
    print(f"load average {os.getloadavg()}", flush=True)
    assert resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss > 0


if __name__ == "__main__":
    main()
