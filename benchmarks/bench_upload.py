"""End-to-end upload into the emulator (its own process) with a fresh SQLite ledger per run.

For each batch size x concurrency, ``--repeat`` times (default 2; the machine is shared, so one
number proves little): start ``jaicp-pipeline emulator --port 0``, then in child processes

1. **plan only**: an upload whose run budget is spent at once plans (and freezes) the whole
   file into a fresh ledger and sends nothing — the planning rate: rows / seconds from the
   start of the run (ledger opened, lease taken) until the file is planned; the whole run,
   with its summary's counts, is shown beside it;
2. **end to end**: an upload of the file into another fresh ledger — every intent and outcome
   durably committed; sending overlaps planning;
3. **idle re-run** of the finished file on that ledger (nothing to send).

Each run reports wall and CPU seconds (the uploader with its reader process; the emulator
apart), per stage of the end-to-end run — *plan* (start → file planned; rows sent meanwhile
are counted) and *send* (the rest) — with the load average before it, peak RSS and the
ledger's size per million rows.

Usage::

    .venv/bin/python -m benchmarks.bench_upload                 # 1M rows, 100/500/2000 x 1/4
    .venv/bin/python -m benchmarks.bench_upload --quick         # 100k rows, 500x1 and 2000x4
    .venv/bin/python -m benchmarks.bench_upload --cases 100x1,500x4,2000x4 --repeat 3
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from benchmarks._common import children_peak_rss_mb, peak_rss_mb

TOKEN = "104.7056." + "b" * 43  # the emulator's campaign; only ever on loopback
CONFIG = """\
api: {{timeout_s: 120}}
ledger: {{url: 'sqlite:///{ledger}'}}
columns: {{phone: phone, payload: {{name: name, debt: {{column: debt, type: int}}}}}}
dedupe: {{key: none}}
input: {{chunk_size: 20000}}
upload: {{batch_size: {batch}, concurrency: {conc}, run_budget_s: {budget}}}
"""
ALL_CASES = "100x1,100x4,500x1,500x4,2000x1,2000x4"  # the batch sizes and senders of issue 4
PLAN_ONLY_BUDGET_S = 0.001  # spent before the first claim: the run plans and sends nothing


def make_csv(path: Path, rows: int) -> None:
    """``rows`` distinct Russian mobile numbers with a name and a debt, in scattered order."""
    with path.open("w", encoding="utf-8") as fh:
        fh.write("phone,name,debt\n")
        for n in range(rows):
            fh.write(f"79{(n * 7_919_993) % 1_000_000_000:09d},Client {n},{n % 5000}\n")


def _cpu_s() -> float:
    """CPU seconds of this process (all threads) and of its reaped children (the reader)."""
    me = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def child(config: str, csv: str) -> None:
    """Run one upload in this process and print its measurements as JSON."""
    from pipeline.api import CallsApiClient
    from pipeline.config import load_config
    from pipeline.ledger import open_ledger, utc_now
    from pipeline.load import run_upload
    from pipeline.load.upload.progress import Progress

    cfg = load_config(config)
    marks: dict[str, tuple[float, float]] = {}

    def mark(name: str) -> None:
        marks.setdefault(name, (time.perf_counter(), _cpu_s()))

    def progress(line: str) -> None:
        if line.endswith(": planned"):
            mark("planned")

    def count(_p: Progress) -> None:
        pass  # as the CLI's progress display does: the meter's counting is part of the run

    mark("start")
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
            on_progress=count,
        )
    mark("end")
    with open_ledger(cfg.ledger.url) as ledger, ledger.store.engine.connect() as conn:
        # Rows confirmed before the file was complete in the ledger: sent while planning.
        early = conn.exec_driver_sql(
            "SELECT coalesce(sum(b.size), 0) FROM events e JOIN batches b ON b.id = e.entity_id "
            "WHERE e.entity = 'batch' AND e.to_state = 'confirmed' AND e.id < "
            "(SELECT max(id) FROM events WHERE entity = 'input' AND to_state = 'complete')"
        ).scalar()
    start, end = marks["start"], marks["end"]
    planned = marks.get("planned", end)
    print(
        json.dumps(
            {
                "exit": summary.exit_code,
                "read": summary.read,
                "sent": summary.sent,
                "total_s": end[0] - start[0],
                "cpu_s": end[1] - start[1],
                "plan_s": planned[0] - start[0],
                "plan_cpu_s": planned[1] - start[1],
                "sent_while_planning": early,
                "send_s": end[0] - planned[0],
                "send_cpu_s": end[1] - planned[1],
                "rss_mb": peak_rss_mb(),
                "reader_rss_mb": children_peak_rss_mb(),
            }
        )
    )


def _proc_cpu_s(pid: int) -> float:
    """CPU seconds (user + system) of a running process, from /proc (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass
class Emulator:
    """``jaicp-pipeline emulator`` in its own process."""

    proc: subprocess.Popen[str]
    url: str

    @classmethod
    def start(cls) -> Emulator:
        proc = subprocess.Popen(
            [sys.executable, "-m", "pipeline", "emulator", "--port", "0"],  # token: JAICP_TOKEN
            stdout=subprocess.PIPE,
            text=True,
            env={**os.environ, "JAICP_TOKEN": TOKEN},
        )
        assert proc.stdout is not None
        return cls(proc, proc.stdout.readline().split()[-1])

    def cpu_s(self) -> float:
        return _proc_cpu_s(self.proc.pid)

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=30)


def _upload(emu: Emulator, config: Path, csv: Path) -> dict[str, Any]:
    load = os.getloadavg()[0]
    me = [sys.executable, "-m", "benchmarks.bench_upload", "--child", str(config), str(csv)]
    before = emu.cpu_s()
    env = {**os.environ, "JAICP_BASE_URL": emu.url}
    done = subprocess.run(me, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"the upload child failed:\n{done.stderr}")
    got: dict[str, Any] = json.loads(done.stdout)
    got["emulator_cpu_s"] = emu.cpu_s() - before
    got["load"] = load
    return got


def run_case(csv: Path, rows: int, *, batch: int, conc: int, tmp: Path, n: int) -> dict[str, Any]:
    """One repetition of a case: plan only, end to end, idle re-run."""
    emu = Emulator.start()
    try:
        runs = {}
        for kind, budget in (("plan", PLAN_ONLY_BUDGET_S), ("e2e", 36000)):
            ledger = tmp / f"ledger-{batch}-{conc}-{n}-{kind}.sqlite3"
            config = tmp / f"c-{batch}-{conc}-{n}-{kind}.yaml"
            text = CONFIG.format(ledger=ledger, batch=batch, conc=conc, budget=budget)
            config.write_text(text, encoding="utf-8")
            runs[kind] = _upload(emu, config, csv)
            if kind == "e2e":
                runs["idle"] = _upload(emu, config, csv)
                size = sum(p.stat().st_size for p in tmp.glob(f"{ledger.name}*"))
    finally:
        emu.stop()
    plan, e2e, idle = runs["plan"], runs["e2e"], runs["idle"]
    return {
        "batch": batch,
        "conc": conc,
        "ok": e2e["exit"] == 0
        and e2e["read"] == rows
        and idle["sent"] == e2e["sent"]
        and plan["read"] == rows
        and plan["sent"] == 0,
        "plan": plan,
        "e2e": e2e,
        "idle": idle,
        "ledger_mb_per_m": size / 1e6 * (1_000_000 / rows),
    }


def _show(r: dict[str, Any], rows: int) -> None:
    plan, e2e, idle = r["plan"], r["e2e"], r["idle"]
    print(
        f"{r['batch']:>5}x{r['conc']:<2} load {plan['load']:.2f}/{e2e['load']:.2f} | "
        f"plan only {rows / plan['plan_s']:>8,.0f} rows/s ({plan['plan_s']:.1f} s, "
        f"CPU {plan['plan_cpu_s']:.1f} s; run {plan['total_s']:.1f} s) | "
        f"e2e {rows / e2e['total_s']:>7,.0f} rows/s "
        f"({e2e['total_s']:.1f} s, CPU {e2e['cpu_s']:.1f} s + emulator "
        f"{e2e['emulator_cpu_s']:.1f} s) | idle re-run {idle['total_s']:.2f} s | {r['ok']}",
        flush=True,
    )
    print(
        f"          e2e stages: plan {e2e['plan_s']:.1f} s (CPU {e2e['plan_cpu_s']:.1f} s, "
        f"{e2e['sent_while_planning']:,} rows sent meanwhile), send {e2e['send_s']:.1f} s "
        f"(CPU {e2e['send_cpu_s']:.1f} s); peak RSS {e2e['rss_mb']:.0f} MB "
        f"(reader {e2e['reader_rss_mb']:.0f} MB); ledger {r['ledger_mb_per_m']:.0f} MB/1M rows",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=None)
    parser.add_argument("--cases", default=None, help="e.g. 500x1,2000x4")
    parser.add_argument("--repeat", type=int, default=2, help="runs per case (default 2)")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--child", nargs=2, metavar=("CONFIG", "CSV"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return
    rows = args.rows or (100_000 if args.quick else 1_000_000)
    spec = args.cases or ("500x1,2000x4" if args.quick else ALL_CASES)
    cases = [tuple(int(x) for x in c.split("x")) for c in spec.split(",")]
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        csv = tmp / "rows.csv"
        make_csv(csv, rows)
        print(f"{rows:,} rows, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {os.cpu_count()} CPUs")
        summary = []
        for batch, conc in cases:
            results = []
            for n in range(args.repeat):
                r = run_case(csv, rows, batch=batch, conc=conc, tmp=tmp, n=n)
                _show(r, rows)
                results.append(r)
                for p in tmp.glob("ledger-*"):
                    p.unlink()
            summary.append((batch, conc, results))
        print(
            "summary (median of the runs; targets: plan >= 100,000 rows/s, e2e >= 50,000 "
            "rows/s, idle re-run < 5 s):"
        )
        for batch, conc, results in summary:
            plan = statistics.median(rows / r["plan"]["plan_s"] for r in results)
            e2e = statistics.median(rows / r["e2e"]["total_s"] for r in results)
            idle = statistics.median(r["idle"]["total_s"] for r in results)
            print(
                f"  {batch}x{conc}: plan {plan:,.0f} rows/s, e2e {e2e:,.0f} rows/s, idle re-run "
                f"{idle:.2f} s, all ok: {all(r['ok'] for r in results)}"
            )


if __name__ == "__main__":
    main()
