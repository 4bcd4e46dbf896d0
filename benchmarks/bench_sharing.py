"""One vs several uploader processes sharing a campaign on a PostgreSQL ledger.

For each worker count: a fresh PostgreSQL database (created from ``--admin-url``, dropped
afterwards), the emulator in its own process, then N ``jaicp-pipeline upload`` processes
started together on the same file. Prints wall-clock rows/s from the first start to the last
exit, how the confirmed batches were split between the processes, and each one's peak RSS.

Usage::

    .venv/bin/python -m benchmarks.bench_sharing                       # 200k rows, 1 and 3
    .venv/bin/python -m benchmarks.bench_sharing --rows 50000 --workers 1,2,3 --batch 500
    .venv/bin/python -m benchmarks.bench_sharing --latency-ms 50   # a remote API's round trip

``--latency-ms`` delays every addPhones reply of the emulator (its ``delay`` fault), as the
real API's network round trip and work would: on a 2-core machine that runs the emulator,
PostgreSQL and every worker, the CPU is shared by all of them, so several workers pay off
mainly when requests wait on the network, as they do against the real service.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa

from benchmarks.bench_upload import TOKEN, make_csv

ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
CONFIG = """\
api: {{timeout_s: 120}}
ledger: {{url: '{ledger}'}}
columns: {{phone: phone, payload: {{name: name, debt: {{column: debt, type: int}}}}}}
dedupe: {{key: none}}
input: {{chunk_size: 20000}}
upload: {{batch_size: {batch}, concurrency: 1, run_budget_s: 36000}}
"""


def _database(admin_url: str) -> tuple[str, str]:
    name = f"jaicp_bench_{secrets.token_hex(4)}"
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    admin.dispose()
    return name, admin_url.rsplit("/", 1)[0] + "/" + name


def _drop(admin_url: str, name: str) -> None:
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.dispose()


def run_case(
    csv: Path, rows: int, workers: int, *, batch: int, tmp: Path, admin: str, latency_ms: float
) -> str:
    name, url = _database(admin)
    config = tmp / f"c-{workers}.yaml"
    config.write_text(CONFIG.format(ledger=url, batch=batch), encoding="utf-8")
    emu = subprocess.Popen(
        [sys.executable, "-m", "pipeline", "emulator", "--port", "0"],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "JAICP_TOKEN": TOKEN},
    )
    try:
        assert emu.stdout is not None
        base = emu.stdout.readline().split()[-1]
        if latency_ms:
            rule = {"kind": "delay", "endpoint": "addPhones", "delaySeconds": latency_ms / 1000}
            request = urllib.request.Request(
                f"{base}/__emulator__/faults",
                data=json.dumps({"faults": [rule]}).encode(),
                headers={"Content-Type": "application/json"},
                method="POST",
            )
            urllib.request.urlopen(request, timeout=10).close()
        env = {**os.environ, "JAICP_BASE_URL": base, "JAICP_TOKEN": TOKEN}
        argv = [sys.executable, "-m", "pipeline", "--quiet", "upload", "--config", str(config),
                str(csv)]  # fmt: skip
        started = time.perf_counter()
        procs = [
            subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            for _ in range(workers)
        ]
        rss = []
        codes = []
        for proc in procs:
            # wait4 gives each child's own peak RSS (ru_maxrss, KiB on Linux)
            _pid, status, usage = os.wait4(proc.pid, 0)
            proc.returncode = os.waitstatus_to_exitcode(status)
            codes.append(proc.returncode)
            rss.append(usage.ru_maxrss / 1024)
        wall = time.perf_counter() - started
        engine = sa.create_engine(url)
        with engine.connect() as conn:
            split: Counter[str] = Counter(
                dict(
                    conn.exec_driver_sql(
                        "SELECT claim_owner, count(*) FROM batches WHERE state = 'confirmed' "
                        "GROUP BY claim_owner"
                    ).all()
                )
            )
            states: dict[str, int] = dict(
                conn.exec_driver_sql("SELECT state, count(*) FROM rows GROUP BY state").all()
            )
        engine.dispose()
    finally:
        emu.terminate()
        emu.wait(timeout=30)
        _drop(admin, name)
    sent, rejected = states.get("sent", 0), states.get("rejected", 0)
    # Every row settled: sent, or rejected by validation (the generator makes a few invalid).
    ok = codes == [0] * workers and sent + rejected == rows
    shares = "/".join(str(n) for n in sorted(split.values(), reverse=True))
    return (
        f"{workers:>7} | {batch:>5} | {rows / wall:>10,.0f} | {wall:>7.1f} | {shares:>14} |"
        f" {max(rss):>11.0f} | {ok} (exits {codes}, {sent:,} sent, {rejected} rejected)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--workers", default="1,3", help="worker counts, e.g. 1,2,3")
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--admin-url", default=ADMIN_URL)
    parser.add_argument("--latency-ms", type=float, default=0.0, help="per addPhones reply")
    args = parser.parse_args()
    counts = [int(n) for n in args.workers.split(",")]
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        csv = tmp / "rows.csv"
        make_csv(csv, args.rows)
        print(
            f"{args.rows:,} rows, PostgreSQL ledger, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, "
            f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}, "
            f"emulator reply delay {args.latency_ms:g} ms"
        )
        print("workers | batch | rows/s e2e | wall s | batches split | peak RSS MB | ok")
        for workers in counts:
            line = run_case(
                csv,
                args.rows,
                workers,
                batch=args.batch,
                tmp=tmp,
                admin=args.admin_url,
                latency_ms=args.latency_ms,
            )
            print(line, flush=True)


if __name__ == "__main__":
    main()
