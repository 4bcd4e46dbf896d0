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
    # a server 100 ms away: every addPhones reply delayed (the emulator's "delay" fault);
    # "auto4" is upload.concurrency: auto with upload.max_concurrency: 4
    .venv/bin/python -m benchmarks.bench_upload --delay-ms 100 --cases 500x1,500x4,500xauto4 \
        --e2e-only --repeat 1

With ``--delay-ms`` each case also prints the limit ``senders x batch / delay`` and the share of
it reached end to end. *tree RSS* is the peak of the summed resident memory of the uploader
and its children (the reader), sampled from /proc every 50 ms; *PSS* the same with each
shared page counted once (every 200 ms); the emulator's RSS is shown apart.
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
import threading
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
upload: {{batch_size: {batch}, {senders}, run_budget_s: {budget}}}
"""
ALL_CASES = "100x1,100x4,500x1,500x4,2000x1,2000x4"  # the batch sizes and senders of issue 4
PLAN_ONLY_BUDGET_S = 0.001  # spent before the first claim: the run plans and sends nothing
TREE_TARGET_MB = 400  # issue 14: uploader + reader, summed RSS, at 1M rows and flat to 3M


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


def _rss_mb(pid: int) -> float:
    """Resident memory of a process now, in MB (0 once it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/statm").read_text().split()
    except OSError:
        return 0.0
    return int(fields[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def _pss_mb(pid: int) -> float:
    """Proportional memory of a process now, in MB: its private pages plus its share of
    the pages it shares (a forked reader shares the uploader's pages until either writes
    them, so summed RSS counts those twice; summed PSS does not)."""
    try:
        text = Path(f"/proc/{pid}/smaps_rollup").read_text()
    except OSError:
        return 0.0
    for line in text.splitlines():
        if line.startswith("Pss:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _tree(pid: int) -> list[int]:
    """``pid`` and its descendants (from /proc: Linux)."""
    parents: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            ppid = int((entry / "stat").read_text().rpartition(")")[2].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        parents.setdefault(ppid, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        here = todo.pop()
        found.append(here)
        todo.extend(parents.get(here, []))
    return found


class TreeRss:
    """Peaks of the summed RSS and PSS of a process tree, sampled on a thread while it runs."""

    def __init__(self, pid: int, every_s: float = 0.05) -> None:
        self.pid, self.every_s, self.peak_mb, self.peak_pss_mb = pid, every_s, 0.0, 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()

    def _sample(self) -> None:
        pids: list[int] = [self.pid]
        n = 0
        while not self._stop.is_set():
            if n % 10 == 0:  # the tree changes rarely (the reader starts once per file)
                pids = _tree(self.pid)
            n += 1
            self.peak_mb = max(self.peak_mb, sum(_rss_mb(p) for p in pids))
            if n % 4 == 0:  # smaps_rollup walks the page tables: read it less often
                self.peak_pss_mb = max(self.peak_pss_mb, sum(_pss_mb(p) for p in pids))
            self._stop.wait(self.every_s)

    def stop(self) -> float:
        self._stop.set()
        self._thread.join()
        return self.peak_mb


@dataclass
class Emulator:
    """``jaicp-pipeline emulator`` in its own process."""

    proc: subprocess.Popen[str]
    url: str

    @classmethod
    def start(cls, delay_ms: float = 0) -> Emulator:
        faults = []
        if delay_ms:  # every addPhones reply comes this much later: a server far away
            rule = {"kind": "delay", "endpoint": "addPhones", "delaySeconds": delay_ms / 1000}
            faults = ["--faults", json.dumps([rule])]
        proc = subprocess.Popen(
            [sys.executable, "-m", "pipeline", "emulator", "--port", "0", *faults],  # JAICP_TOKEN
            stdout=subprocess.PIPE,
            text=True,
            env={**os.environ, "JAICP_TOKEN": TOKEN},
        )
        assert proc.stdout is not None
        return cls(proc, proc.stdout.readline().split()[-1])

    def cpu_s(self) -> float:
        return _proc_cpu_s(self.proc.pid)

    def rss_mb(self) -> float:
        return _rss_mb(self.proc.pid)

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=30)


def _upload(emu: Emulator, config: Path, csv: Path) -> dict[str, Any]:
    load = os.getloadavg()[0]
    me = [sys.executable, "-m", "benchmarks.bench_upload", "--child", str(config), str(csv)]
    before = emu.cpu_s()
    env = {**os.environ, "JAICP_BASE_URL": emu.url}
    proc = subprocess.Popen(me, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    tree = TreeRss(proc.pid)
    out, err = proc.communicate()
    tree_mb = tree.stop()
    got_pss = tree.peak_pss_mb
    if proc.returncode != 0:
        raise SystemExit(f"the upload child failed:\n{err}")
    got: dict[str, Any] = json.loads(out)
    got["tree_rss_mb"] = tree_mb
    got["tree_pss_mb"] = got_pss
    got["emulator_rss_mb"] = emu.rss_mb()
    got["emulator_cpu_s"] = emu.cpu_s() - before
    got["load"] = load
    return got


def _senders(conc: str) -> str:
    """The config's concurrency settings for ``4`` or ``auto4`` (auto, at most 4)."""
    if conc.startswith("auto"):
        return f"concurrency: auto, max_concurrency: {int(conc[4:])}"
    return f"concurrency: {int(conc)}"


def _max_senders(conc: str) -> int:
    return int(conc.removeprefix("auto"))


def run_case(
    csv: Path,
    rows: int,
    *,
    batch: int,
    conc: str,
    tmp: Path,
    n: int,
    delay_ms: float = 0,
    e2e_only: bool = False,
) -> dict[str, Any]:
    """One repetition of a case: plan only (unless ``e2e_only``), end to end, idle re-run."""
    emu = Emulator.start(delay_ms)
    try:
        runs = {}
        kinds = (("e2e", 36000),) if e2e_only else (("plan", PLAN_ONLY_BUDGET_S), ("e2e", 36000))
        for kind, budget in kinds:
            ledger = tmp / f"ledger-{batch}-{conc}-{n}-{kind}.sqlite3"
            config = tmp / f"c-{batch}-{conc}-{n}-{kind}.yaml"
            text = CONFIG.format(ledger=ledger, batch=batch, senders=_senders(conc), budget=budget)
            config.write_text(text, encoding="utf-8")
            runs[kind] = _upload(emu, config, csv)
            if kind == "e2e":
                runs["idle"] = _upload(emu, config, csv)
                size = sum(p.stat().st_size for p in tmp.glob(f"{ledger.name}*"))
    finally:
        emu.stop()
    e2e, idle = runs["e2e"], runs["idle"]
    plan = runs.get("plan")
    limit = _max_senders(conc) * batch / (delay_ms / 1000) if delay_ms else None
    return {
        "batch": batch,
        "conc": conc,
        "limit": limit,
        "ok": e2e["exit"] == 0
        and e2e["read"] == rows
        and idle["sent"] == e2e["sent"]
        and (plan is None or (plan["read"] == rows and plan["sent"] == 0)),
        "plan": plan,
        "e2e": e2e,
        "idle": idle,
        "ledger_mb_per_m": size / 1e6 * (1_000_000 / rows),
    }


def _show(r: dict[str, Any], rows: int) -> None:
    plan, e2e, idle = r["plan"], r["e2e"], r["idle"]
    rate = rows / e2e["total_s"]
    planning = (
        f"plan only {rows / plan['plan_s']:>8,.0f} rows/s ({plan['plan_s']:.1f} s, "
        f"CPU {plan['plan_cpu_s']:.1f} s; run {plan['total_s']:.1f} s) | "
        if plan is not None
        else ""
    )
    share = f" = {rate / r['limit']:.0%} of {r['limit']:,.0f}" if r["limit"] else ""
    print(
        f"{r['batch']:>5}x{r['conc']:<5} load {e2e['load']:.2f} | {planning}"
        f"e2e {rate:>7,.0f} rows/s{share} "
        f"({e2e['total_s']:.1f} s, CPU {e2e['cpu_s']:.1f} s + emulator "
        f"{e2e['emulator_cpu_s']:.1f} s) | idle re-run {idle['total_s']:.2f} s | ok {r['ok']} "
        f"(exit {e2e['exit']}, read {e2e['read']:,}, sent {e2e['sent']:,}/{idle['sent']:,})",
        flush=True,
    )
    print(
        f"          e2e stages: plan {e2e['plan_s']:.1f} s (CPU {e2e['plan_cpu_s']:.1f} s, "
        f"{e2e['sent_while_planning']:,} rows sent meanwhile), send {e2e['send_s']:.1f} s "
        f"(CPU {e2e['send_cpu_s']:.1f} s); tree RSS {e2e['tree_rss_mb']:.0f} MB, PSS "
        f"{e2e['tree_pss_mb']:.0f} MB (uploader "
        f"peak {e2e['rss_mb']:.0f} MB, reader {e2e['reader_rss_mb']:.0f} MB; emulator "
        f"{e2e['emulator_rss_mb']:.0f} MB); ledger {r['ledger_mb_per_m']:.0f} MB/1M rows",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=None)
    parser.add_argument("--cases", default=None, help="e.g. 500x1,2000x4,500xauto8")
    parser.add_argument("--repeat", type=int, default=2, help="runs per case (default 2)")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--delay-ms", type=float, default=0, help="addPhones reply delay")
    parser.add_argument("--e2e-only", action="store_true", help="skip the plan-only run")
    parser.add_argument("--child", nargs=2, metavar=("CONFIG", "CSV"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return
    rows = args.rows or (100_000 if args.quick else 1_000_000)
    spec = args.cases or ("500x1,2000x4" if args.quick else ALL_CASES)
    cases = [(int(c.split("x")[0]), c.split("x")[1]) for c in spec.split(",")]
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        csv = tmp / "rows.csv"
        make_csv(csv, rows)
        print(
            f"{rows:,} rows, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {os.cpu_count()} CPUs, "
            f"addPhones reply delay {args.delay_ms:g} ms; command: {' '.join(sys.argv)}"
        )
        summary = []
        for batch, conc in cases:
            results = []
            for n in range(args.repeat):
                r = run_case(
                    csv,
                    rows,
                    batch=batch,
                    conc=conc,
                    tmp=tmp,
                    n=n,
                    delay_ms=args.delay_ms,
                    e2e_only=args.e2e_only,
                )
                _show(r, rows)
                results.append(r)
                for p in tmp.glob("ledger-*"):
                    p.unlink()
            summary.append((batch, conc, results))
        print(
            "summary (median of the runs; targets: plan >= 100,000 rows/s, e2e >= 50,000 "
            "rows/s, idle re-run < 5 s; with a delay: e2e >= 80 % of the limit; the process "
            f"tree <= {TREE_TARGET_MB} MB):"
        )
        for batch, conc, results in summary:
            plans = [rows / r["plan"]["plan_s"] for r in results if r["plan"] is not None]
            plan = f"plan {statistics.median(plans):,.0f} rows/s, " if plans else ""
            e2e = statistics.median(rows / r["e2e"]["total_s"] for r in results)
            limit = results[0]["limit"]
            share = f" ({e2e / limit:.0%} of {limit:,.0f})" if limit else ""
            idle = statistics.median(r["idle"]["total_s"] for r in results)
            tree = max(r["e2e"]["tree_rss_mb"] for r in results)
            pss = max(r["e2e"]["tree_pss_mb"] for r in results)
            print(
                f"  {batch}x{conc}: {plan}e2e {e2e:,.0f} rows/s{share}, idle re-run "
                f"{idle:.2f} s, tree RSS {tree:.0f} MB (PSS {pss:.0f} MB), "
                f"all ok: {all(r['ok'] for r in results)}"
            )
        trees = [
            (r["e2e"]["tree_rss_mb"], r["e2e"]["tree_pss_mb"]) for _b, _c, rs in summary for r in rs
        ]
        rss, pss = max(t[0] for t in trees), max(t[1] for t in trees)
        print(
            f"memory: {rows:,} rows, the whole process tree (uploader + reader) at most "
            f"{rss:.0f} MB RSS, {pss:.0f} MB PSS over every end-to-end run (target "
            f"<= {TREE_TARGET_MB} MB: {'met' if rss <= TREE_TARGET_MB else 'NOT met'}); load "
            f"average {min(r['e2e']['load'] for _b, _c, rs in summary for r in rs):.2f}-"
            f"{max(r['e2e']['load'] for _b, _c, rs in summary for r in rs):.2f}"
        )


if __name__ == "__main__":
    main()
