"""Plan 1,000,000 rows into a fresh SQLite ledger; print rows/s, peak RSS and file size.

Usage::

    .venv/bin/python -m benchmarks.bench_ledger [--rows 1000000] [--chunk 100000] [--freeze]
        [--second]

``--freeze`` also freezes the rows into batches of 500 afterwards, and then plans them again
into another fresh ledger frozen while planning (what the uploader does), to compare the two.

The records are built before the clock starts (they stand for the transform's output), so the
number measures the ledger: row keys, canonical JSON, the inserts and their commits.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from benchmarks._common import Stage, peak_rss_mb
from pipeline.ledger import InputFile, canonical_body, open_ledger
from pipeline.records import CallItem, Duplicate, Rejection


def make_records(n: int) -> list[CallItem | Rejection | Duplicate]:
    out: list[CallItem | Rejection | Duplicate] = []
    for row in range(1, n + 1):
        if row % 1000 == 0:
            out.append(Rejection(row, "phone", "phone_invalid", "not a phone number"))
        elif row % 1000 == 1 and row > 1:
            out.append(Duplicate(row, row - 2))
        else:
            out.append(
                CallItem(
                    row=row,
                    # Scattered like real numbers, so the phone index grows at random pages.
                    phone=f"79{(row * 7_919_993) % 1_000_000_000:09d}",
                    payload={"name": f"Client {row}", "debt": row % 5000, "due": "2026-03-01"},
                    policy={"gmtZone": "+03:00"},
                )
            )
    return out


def _plan_frozen(
    path: Path, records: list[CallItem | Rejection | Duplicate], rows: int, chunk: int
) -> None:
    """Plan the records into a fresh ledger at ``path`` frozen while planning (batches of 500)."""
    ledger = open_ledger(f"sqlite:///{path}")
    campaign = ledger.campaigns.ensure("bench.token")
    run_id = ledger.runs.start(
        command="bench", files=[InputFile("bench.csv", "0" * 64, 0)], config_digest="0" * 64
    )
    lease = ledger.leases.acquire(campaign.id, owner="bench", ttl_s=3600, run_id=run_id)
    state = ledger.inputs.begin(lease, name="bench.csv", sha256="0" * 64)
    with Stage("plan frozen into batches of 500 in one pass", rows=rows):
        chunks = (records[i : i + chunk] for i in range(0, len(records), chunk))
        ledger.planning.plan_chunks(
            lease, state.id, chunks, batch_size=500, body_for=canonical_body
        )
        ledger.inputs.complete(lease, state.id, rows_total=rows)
    ledger.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--chunk", type=int, default=100_000)
    parser.add_argument("--freeze", action="store_true", help="also freeze batches of 500")
    parser.add_argument(
        "--second",
        action="store_true",
        help="then plan the same rows as another file (every row a cross-run duplicate lookup)",
    )
    args = parser.parse_args()
    records = make_records(args.rows)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "ledger.sqlite3"
        ledger = open_ledger(f"sqlite:///{path}")
        campaign = ledger.campaigns.ensure("bench.token")
        run_id = ledger.runs.start(
            command="bench", files=[InputFile("bench.csv", "0" * 64, 0)], config_digest="0" * 64
        )
        lease = ledger.leases.acquire(campaign.id, owner="bench", ttl_s=3600, run_id=run_id)
        state = ledger.inputs.begin(lease, name="bench.csv", sha256="0" * 64)
        with Stage("plan into SQLite ledger", rows=args.rows):
            chunks = (records[i : i + args.chunk] for i in range(0, len(records), args.chunk))
            ledger.planning.plan_chunks(lease, state.id, chunks)
            ledger.inputs.complete(lease, state.id, rows_total=args.rows)
        if args.freeze:
            with Stage("freeze batches of 500", rows=args.rows):
                # The uploader's body_for: bodies spliced from the stored canonical JSON.
                ledger.freezing.freeze_batches(lease, batch_size=500, body_for=canonical_body)
            _plan_frozen(Path(tmp) / "fused.sqlite3", records, args.rows, args.chunk)
        if args.second:
            again = ledger.inputs.begin(lease, name="again.csv", sha256="1" * 64)
            with Stage("plan a second file with the same rows (all duplicates)", rows=args.rows):
                chunks = (records[i : i + args.chunk] for i in range(0, len(records), args.chunk))
                counts = ledger.planning.plan_chunks(lease, again.id, chunks)
            print(f"  cross-run duplicates found: {counts.repeat_of_earlier_run:,}")
        ledger.close()
        size = sum(p.stat().st_size for p in Path(tmp).glob("ledger.sqlite3*"))
        print(
            f"ledger size: {size / 1e6:.0f} MB ({size / args.rows:.0f} bytes/row); "
            f"peak RSS {peak_rss_mb():.0f} MB"
        )


if __name__ == "__main__":
    main()
