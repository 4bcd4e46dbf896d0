"""Ingest benchmark: read, normalize+validate and the whole ``validate`` path, with peak RSS.

Generates (or reuses, under the git-ignored ``benchmarks/data/``) two 1,000,000-row CSVs and a
200,000-row XLSX:

* ``realistic`` (:mod:`benchmarks.realistic`, docs/benchmarks.md): 8 columns, 13 % of the
  phones invalid or junk, 4 % landlines of many regions, 1.5 % foreign, in documented shares
  and a fixed seed: what a nightly CRM export looks like;
* ``classic``: 5 columns of mixed CRM data where about 3 % of the phones are bad or lossy (the
  file the first figures were measured on; kept as a second case), and its XLSX twin;
* ``quoted`` (only when asked for): the realistic rows with every cell in double quotes, as
  Bitrix24 and many CRMs write CSV (``sample_data/bitrix24_export.csv`` is such a file).

Every big stage runs in a fresh subprocess, so each peak RSS belongs to that stage alone. Each
``validate`` line states the command, the load average before it, wall time, rows/s, CPU
seconds (workers included) and peak RSS. The fast path is checked against plain phonenumbers
on every row of each CSV, and ``naive_baseline.py`` runs on each CSV for the ratio.

Usage::

    .venv/bin/python -m benchmarks.bench_ingest                    # both files + the XLSX
    .venv/bin/python -m benchmarks.bench_ingest --data realistic   # one file
    .venv/bin/python -m benchmarks.bench_ingest --data quoted --skip-naive   # every cell quoted
    .venv/bin/python -m benchmarks.bench_ingest --flat     # plus the 3M-row flatness check
    .venv/bin/python -m benchmarks.bench_ingest --rows 100000 --xlsx-rows 20000   # quick look
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

from benchmarks import realistic
from benchmarks._common import Stage

DATA = Path(__file__).resolve().parent / "data"
CONFIG = """version: 1
columns:
  phone: Телефон
  payload:
    name: ФИО
    debt: {column: Сумма, type: decimal}
    due: {column: Дата, type: date}
phone:
  default_region: RU
"""
HEADER = ["Телефон", "ФИО", "Сумма", "Дата", "Город"]
_NAMES = ["Иванов Иван", "Петрова Анна", "Сидоров Олег", "Smith John", "Кузнецова Ольга"]
_CITIES = ["Москва", "Санкт-Петербург", "Казань", "Новосибирск", ""]


def _phone(rnd: random.Random) -> str:
    """One phone cell in a realistic shape; about 3% are bad or lossy."""
    nsn = rnd.choice(["9", "9", "9", "9", "812", "495"])
    nsn += "".join(rnd.choice("0123456789") for _ in range(10 - len(nsn)))
    if nsn.startswith("9") and nsn[1] == "3":
        nsn = "91" + nsn[2:]  # keep most mobile numbers inside valid ranges
    bad = rnd.random()
    if bad < 0.01:
        return f"7,{nsn[:5]}E+10"
    if bad < 0.02:
        return nsn[:6]
    if bad < 0.025:
        return f"8 {nsn} доб. 12"
    if bad < 0.03:
        return f"8{nsn}, 8{nsn[::-1]}"
    a, b, c, d = nsn[:3], nsn[3:6], nsn[6:8], nsn[8:]
    shapes = [
        f"+7 {a} {b}-{c}-{d}",
        f"8 ({a}) {b}-{c}-{d}",
        f"7{nsn}",
        f"8{nsn}",
        nsn,
        f"8-{a}-{b}-{c}-{d}",
        f"+7({a}){b}{c}{d}",
        f"+7 {a} {b} {c} {d}",
    ]
    return rnd.choice(shapes)


def _rows(n: int, seed: int = 7) -> list[list[str]]:
    rnd = random.Random(seed)
    out: list[list[str]] = []
    for i in range(n):
        if out and rnd.random() < 0.03:
            out.append(list(out[rnd.randrange(len(out))]))  # an exact duplicate
            continue
        if rnd.random() < 0.002:
            out.append(["", "", "", "", ""])
            continue
        amount = f"{rnd.randint(0, 99999)},{rnd.randint(0, 99):02d}"
        date = f"{rnd.randint(1, 28):02d}.{rnd.randint(1, 12):02d}.2026"
        out.append(
            [_phone(rnd), rnd.choice(_NAMES) + f" {i % 997}", amount, date, rnd.choice(_CITIES)]
        )
    return out


def make_csv(n: int) -> Path:
    path = DATA / f"ingest_{n}.csv"
    if not path.exists():
        DATA.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        with tmp.open("w", encoding="utf-8-sig", newline="") as handle:
            writer = csv.writer(handle, delimiter=";")
            writer.writerow(HEADER)
            for start in range(0, n, 100_000):
                writer.writerows(_rows(min(100_000, n - start), seed=start))
        tmp.replace(path)
    return path


def make_xlsx(n: int) -> Path:
    path = DATA / f"ingest_{n}.xlsx"
    if not path.exists():
        from openpyxl import Workbook

        DATA.mkdir(parents=True, exist_ok=True)
        book = Workbook(write_only=True)
        sheet = book.create_sheet("Data")
        sheet.append(HEADER)
        for i, row in enumerate(_rows(n, seed=11)):
            digits = "".join(ch for ch in row[0] if ch.isdigit())
            # a third of the phones arrive as numeric cells, as Excel stores typed numbers
            cells: list[object] = list(row)
            if i % 3 == 0 and len(digits) == 11 and digits[0] == "7":
                cells[0] = int(digits)
            sheet.append(cells)
        tmp = path.with_suffix(".tmp.xlsx")
        book.save(tmp)
        tmp.replace(path)
    return path


def make_realistic(n: int, *, quote_all: bool = False) -> Path:
    path = DATA / (f"realistic_quoted_{n}.csv" if quote_all else f"realistic_{n}.csv")
    if not path.exists():
        DATA.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        with tmp.open("w", encoding="utf-8-sig", newline="") as handle:
            if quote_all:
                writer = csv.writer(handle, delimiter=";", quoting=csv.QUOTE_ALL)
            else:
                writer = csv.writer(handle, delimiter=";")
            writer.writerow(realistic.HEADER)
            for start in range(0, n, 100_000):
                size = min(100_000, n - start)
                writer.writerows(realistic.rows(size, seed=realistic.SEED + start))
        tmp.replace(path)
    return path


def config_path(data: str = "classic") -> Path:
    """The config for a data set (``classic`` also serves the XLSX)."""
    path = DATA / f"bench-{data}.yaml"
    DATA.mkdir(parents=True, exist_ok=True)
    path.write_text(realistic.CONFIG if data == "realistic" else CONFIG, encoding="utf-8")
    return path


def _data_of(path: str | Path) -> str:
    return "realistic" if Path(path).name.startswith("realistic") else "classic"


# ---- stages, each run in its own process ------------------------------------------------------


def stage_read(path: str) -> None:
    from pipeline.extract import ReadOptions, open_table

    with (
        Stage(f"read {Path(path).suffix[1:]}", rows=0) as stage,
        open_table(path, ReadOptions()) as table,
    ):
        stage.rows = sum(len(chunk.rows) for chunk in table.chunks())


def stage_transform(path: str) -> None:
    from pipeline.config import load_config
    from pipeline.extract import ReadOptions, open_table
    from pipeline.transform.assembly import RowTransformer

    cfg = load_config(config_path(_data_of(path)), environ={})
    spent, cpu, rows = 0.0, 0.0, 0
    with open_table(path, ReadOptions()) as table:
        transformer = RowTransformer(cfg, table.info.header, now=datetime.now(UTC))
        for chunk in table.chunks():
            start, start_cpu = time.perf_counter(), time.process_time()
            transformer.transform(chunk)
            spent += time.perf_counter() - start
            cpu += time.process_time() - start_cpu
            rows += len(chunk.rows)
    from benchmarks._common import peak_rss_mb

    print(
        f"normalize+validate ({Path(path).suffix[1:]}): {rows:,} rows in {spent:.2f} s = "
        f"{rows / spent:,.0f} rows/s, CPU {cpu:.2f} s = {rows / cpu:,.0f} rows per CPU-second "
        f"(reading excluded; peak RSS {peak_rss_mb():.0f} MB)",
        flush=True,
    )


def stage_agree(path: str) -> None:
    """Fast path vs plain phonenumbers on every phone cell of the file."""
    from pipeline.config import load_config
    from pipeline.extract import ReadOptions, open_table
    from pipeline.transform.phones import PhoneNormalizer

    cfg = load_config(config_path(_data_of(path)), environ={})
    fast, plain = PhoneNormalizer(cfg.phone), PhoneNormalizer(cfg.phone, fast=False)
    rows = disagreements = rejected = 0
    with open_table(path, ReadOptions()) as table:
        for chunk in table.chunks():
            column = [cells[0] for cells in chunk.rows]
            # the column at once, as validate does it (fast path, then numbering for the rest)
            for cell, got in zip(column, fast.normalize_many(column), strict=True):
                rows += 1
                # verdict, normalized number and reason (code and message) must all be equal
                expected = plain.normalize(cell)
                rejected += not isinstance(expected, str)
                if got != expected:
                    disagreements += 1
                    if disagreements <= 5:
                        print(f"  DISAGREE {cell!r}: fast {got!r}, plain {expected!r}")
    print(
        f"agreement ({Path(path).name}): {rows:,} rows ({rejected:,} phones rejected), fast "
        f"path vs plain phonenumbers disagree on {disagreements} rows",
        flush=True,
    )
    if disagreements:
        raise SystemExit(1)


# ---- orchestration -----------------------------------------------------------------------------


def _tree_rss_kib(pid: int) -> int:
    """Resident memory of ``pid`` and all its descendants now, in KiB (Linux /proc)."""
    total, todo = 0, [pid]
    while todo:
        current = todo.pop()
        try:
            status = Path(f"/proc/{current}/status").read_text()
            children = Path(f"/proc/{current}/task/{current}/children").read_text().split()
        except OSError:
            continue  # the process has just ended
        for line in status.splitlines():
            if line.startswith("VmRSS:"):
                total += int(line.split()[1])
        todo.extend(int(child) for child in children)
    return total


def _child(args: list[str]) -> tuple[float, float, float]:
    """Run a child process; return (wall seconds, CPU seconds, peak RSS in MB of its tree).

    Also prints the child's CPU time (user + system, its worker processes included): on a
    machine shared with other work it is a steadier number than the wall clock. The RSS is the
    larger of the biggest single process (exact, from the kernel) and the sum over the process
    tree sampled every 20 ms, so forked workers count.
    """
    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, *args], cwd=Path(__file__).resolve().parent.parent)
    peak_tree = [0]
    done = threading.Event()

    def sample() -> None:
        while not done.wait(0.02):
            peak_tree[0] = max(peak_tree[0], _tree_rss_kib(proc.pid))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    _, status, usage = os.wait4(proc.pid, 0)
    done.set()
    sampler.join()
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"stage {args} failed with exit code {proc.returncode}")
    wall = time.perf_counter() - start
    cpu = usage.ru_utime + usage.ru_stime
    single = usage.ru_maxrss / 1024
    tree = peak_tree[0] / 1024
    print(
        f"  (process: wall {wall:.2f} s, CPU {cpu:.2f} s; peak RSS largest process "
        f"{single:.0f} MB, process tree {tree:.0f} MB)",
        flush=True,
    )
    return wall, cpu, max(single, tree)


def _load() -> str:
    one, five, _ = os.getloadavg()
    return f"load average {one:.2f} (1 min), {five:.2f} (5 min) on {os.cpu_count()} CPUs"


def _validate(
    path: Path, rows: int, outputs: bool, workers: int | None = None
) -> tuple[float, float]:
    """One ``validate`` run in a child process; prints the command and its figures and
    returns (rows/s, peak RSS MB)."""
    args = ["-m", "pipeline", "validate", "--config", str(config_path(_data_of(path))), str(path)]
    if workers is not None:
        args += ["--workers", str(workers)]
    with tempfile.TemporaryDirectory() as tmp:
        if outputs:
            args += [
                "--accepted",
                f"{tmp}/accepted.csv",
                "--rejects",
                f"{tmp}/rejects{path.suffix}",
                "--emit-batches",
                f"{tmp}/batches",
            ]
        print(f"  $ python {' '.join(args)}", flush=True)
        load = _load()
        seconds, cpu, rss = _child(args)
    label = "validate + all outputs" if outputs else "validate"
    label += f" --workers {workers}" if workers is not None else " (default workers)"
    print(
        f"  => {label} ({path.name}): {rows:,} rows in {seconds:.2f} s = "
        f"{rows / seconds:,.0f} rows/s end to end, CPU {cpu:.2f} s, peak RSS {rss:.0f} MB "
        f"[{load}]",
        flush=True,
    )
    return rows / seconds, rss


def _naive(path: Path, rows: int, best: float) -> None:
    print(f"  $ python -m benchmarks.naive_baseline {path}", flush=True)
    load = _load()
    seconds, cpu, rss = _child(["-m", "benchmarks.naive_baseline", str(path)])
    naive = rows / seconds
    print(
        f"  => ratio ({path.name}): validate (default workers, best run) is {best / naive:.1f}x "
        f"the naive script ({naive:,.0f} rows/s, CPU {cpu:.2f} s, peak RSS {rss:.0f} MB) "
        f"[{load}]",
        flush=True,
    )


def _profile(path: Path, rows: int, results: dict[str, float], *, outputs: bool) -> None:
    print(f"--- {path.name}: per-stage profile, one process ---", flush=True)
    for stage in ("read", "transform"):
        _child(["-m", "benchmarks.bench_ingest", "--stage", stage, str(path)])
    runs = [_validate(path, rows, outputs=False, workers=1) for _ in range(2)]
    results[f"validate1 {path.name}"] = max(runs)[0]
    print(f"--- {path.name}: validate as shipped (workers chosen automatically) ---")
    runs = [_validate(path, rows, outputs=False) for _ in range(2)]
    best = max(runs)  # the run least disturbed by other work on the machine
    results[f"validate {path.name}"], results[f"rss {path.name}"] = best
    if outputs:
        _validate(path, rows, outputs=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--data", choices=["realistic", "classic", "both", "quoted"], default="both"
    )
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--xlsx-rows", type=int, default=200_000)
    parser.add_argument("--flat", action="store_true", help="also run the 3M-row flatness check")
    parser.add_argument("--skip-naive", action="store_true")
    parser.add_argument("--stage", choices=["read", "transform", "agree"], help=argparse.SUPPRESS)
    parser.add_argument("path", nargs="?", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.stage:
        {"read": stage_read, "transform": stage_transform, "agree": stage_agree}[args.stage](
            args.path
        )
        return
    results: dict[str, float] = {}
    files: list[Path] = []
    if args.data in ("realistic", "both"):
        files.append(make_realistic(args.rows))
    if args.data in ("classic", "both"):
        files.append(make_csv(args.rows))
    if args.data == "quoted":
        files.append(make_realistic(args.rows, quote_all=True))
    for path in files:
        _profile(path, args.rows, results, outputs=True)
        _child(["-m", "benchmarks.bench_ingest", "--stage", "agree", str(path)])
        if not args.skip_naive:
            _naive(path, args.rows, results[f"validate {path.name}"])
    if args.data in ("classic", "both"):
        xlsx = make_xlsx(args.xlsx_rows)
        _profile(xlsx, args.xlsx_rows, results, outputs=True)
    if args.flat and args.data == "realistic":
        print("flatness: measured on the classic file; run with --data classic or both")
    elif args.flat:
        big = make_csv(3 * args.rows)
        rss1 = results[f"rss {make_csv(args.rows).name}"]
        _, rss3 = _validate(big, 3 * args.rows, outputs=False)
        print(
            f"flatness: peak RSS {rss3:.0f} MB for {3 * args.rows:,} rows vs "
            f"{rss1:.0f} MB for {args.rows:,} = {rss3 / rss1:.2f}x (target <= 1.2x)",
            flush=True,
        )
    print(f"summary [{_load()}]:", flush=True)
    for path in files:
        print(
            f"  {path.name}: validate {results[f'validate {path.name}']:,.0f} rows/s default "
            f"workers (target 300,000 on the realistic file), "
            f"{results[f'validate1 {path.name}']:,.0f} rows/s with --workers 1 (target "
            f"150,000), peak RSS {results[f'rss {path.name}']:.0f} MB (target < 400)",
            flush=True,
        )
    if args.data in ("classic", "both"):
        name = make_xlsx(args.xlsx_rows).name
        print(f"  {name}: validate {results[f'validate {name}']:,.0f} rows/s (target 100,000)")


if __name__ == "__main__":
    main()
