"""End-to-end upload into the emulator (its own process) with a fresh SQLite ledger per case.

For each batch size x concurrency: start ``jaicp-pipeline emulator --port 0``, run the upload in
a child process (so peak RSS is the uploader's alone), then run it again on the finished file
(the idle re-run), and print one table row: planning rows/s, end-to-end rows/s, peak RSS,
ledger size per million rows, idle re-run seconds.

Usage::

    .venv/bin/python -m benchmarks.bench_upload                 # 1M rows, 100/500/2000 x 1/4
    .venv/bin/python -m benchmarks.bench_upload --quick         # 100k rows, 500x1 and 2000x4
    .venv/bin/python -m benchmarks.bench_upload --rows 1000000 --cases 500x1,2000x4
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from benchmarks._common import peak_rss_mb

TOKEN = "104.7056." + "b" * 43  # the emulator's campaign; only ever on loopback
CONFIG = """\
api: {{timeout_s: 120}}
ledger: {{url: 'sqlite:///{ledger}'}}
columns: {{phone: phone, payload: {{name: name, debt: {{column: debt, type: int}}}}}}
dedupe: {{key: none}}
input: {{chunk_size: 20000}}
upload: {{batch_size: {batch}, concurrency: {conc}, run_budget_s: 36000}}
"""


def make_csv(path: Path, rows: int) -> None:
    """``rows`` distinct Russian mobile numbers with a name and a debt, in scattered order."""
    with path.open("w", encoding="utf-8") as fh:
        fh.write("phone,name,debt\n")
        for n in range(rows):
            fh.write(f"79{(n * 7_919_993) % 1_000_000_000:09d},Client {n},{n % 5000}\n")


def child(config: str, csv: str) -> None:
    """Run one upload in this process and print its measurements as JSON."""
    from pipeline.api import CallsApiClient
    from pipeline.config import load_config
    from pipeline.ledger import open_ledger, utc_now
    from pipeline.load import run_upload

    cfg = load_config(config)
    marks: dict[str, float] = {"start": time.perf_counter()}

    def progress(line: str) -> None:
        marks.setdefault(line.rsplit(":", maxsplit=1)[-1].strip() or line, time.perf_counter())

    with open_ledger(cfg.ledger.url, key_safety_margin_s=3600) as ledger:
        summary = run_upload(
            cfg,
            [Path(csv)],
            token=TOKEN,
            ledger=ledger,
            client=lambda: CallsApiClient.from_config(cfg, TOKEN),
            clock=utc_now,
            sleep=time.sleep,
            rng=random.Random(0),
            progress=progress,
        )
    end = time.perf_counter()
    print(
        json.dumps(
            {
                "exit": summary.exit_code,
                "read": summary.read,
                "sent": summary.sent,
                "total_s": end - marks["start"],
                "plan_s": marks.get("planned", end)
                - marks.get("finishing batches of earlier runs", marks["start"]),
                "send_s": end - marks.get("sending", end),
                "rss_mb": peak_rss_mb(),
            }
        )
    )


def run_case(csv: Path, rows: int, batch: int, conc: int, tmp: Path) -> dict[str, Any]:
    ledger = tmp / f"ledger-{batch}-{conc}.sqlite3"
    config = tmp / f"c-{batch}-{conc}.yaml"
    config.write_text(CONFIG.format(ledger=ledger, batch=batch, conc=conc), encoding="utf-8")
    emu = subprocess.Popen(
        [sys.executable, "-m", "pipeline", "emulator", "--port", "0"],  # token: JAICP_TOKEN
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "JAICP_TOKEN": TOKEN},
    )
    try:
        assert emu.stdout is not None
        url = emu.stdout.readline().split()[-1]
        env = {**os.environ, "JAICP_BASE_URL": url}
        me = [sys.executable, "-m", "benchmarks.bench_upload", "--child", str(config), str(csv)]
        first = json.loads(
            subprocess.run(me, env=env, capture_output=True, text=True, check=True).stdout
        )
        again = json.loads(
            subprocess.run(me, env=env, capture_output=True, text=True, check=True).stdout
        )
    finally:
        emu.terminate()
        emu.wait(timeout=30)
    size = sum(p.stat().st_size for p in tmp.glob(f"{ledger.name}*"))
    return {
        "batch": batch,
        "conc": conc,
        "ok": first["exit"] == 0 and first["read"] == rows and again["sent"] == first["sent"],
        "sent": first["sent"],
        "plan_rps": rows / first["plan_s"] if first["plan_s"] > 0 else 0.0,
        "e2e_rps": rows / first["total_s"],
        "send_rps": rows / first["send_s"] if first["send_s"] > 0 else 0.0,
        "total_s": first["total_s"],
        "rss_mb": first["rss_mb"],
        "ledger_mb_per_m": size / 1e6 * (1_000_000 / rows),
        "idle_s": again["total_s"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=None)
    parser.add_argument("--cases", default=None, help="e.g. 500x1,2000x4")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--child", nargs=2, metavar=("CONFIG", "CSV"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return
    rows = args.rows or (100_000 if args.quick else 1_000_000)
    spec = args.cases or ("500x1,2000x4" if args.quick else "100x1,100x4,500x1,500x4,2000x1,2000x4")
    cases = [tuple(int(x) for x in c.split("x")) for c in spec.split(",")]
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        csv = tmp / "rows.csv"
        make_csv(csv, rows)
        print(f"{rows:,} rows, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {os.cpu_count()} CPUs")
        print(
            "batch conc | plan rows/s | e2e rows/s | send rows/s | total s | peak RSS MB |"
            " ledger MB/1M rows | idle re-run s | ok"
        )
        for batch, conc in cases:
            r = run_case(csv, rows, batch, conc, tmp)
            print(
                f"{r['batch']:>5} {r['conc']:>4} | {r['plan_rps']:>11,.0f} |"
                f" {r['e2e_rps']:>10,.0f} | {r['send_rps']:>11,.0f} | {r['total_s']:>7.1f} |"
                f" {r['rss_mb']:>11.0f} |"
                f" {r['ledger_mb_per_m']:>17.0f} | {r['idle_s']:>13.2f} | {r['ok']}"
                f" ({r['sent']:,} sent)",
                flush=True,
            )


if __name__ == "__main__":
    main()
