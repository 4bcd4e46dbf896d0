"""What the do-not-call list and the contact caps cost on 1,000,000 rows / phones.

Usage::

    .venv/bin/python -m benchmarks.bench_suppress [--rows 1000000] [--listed 1000000]
        [--repeat 3] [--skip-plan] [--postgres postgresql+psycopg://postgres@127.0.0.1/test]

Prints, each with rows/s (or phones/s), peak RSS and the load average:

1. reading a list file of ``--listed`` phones (``suppress.files``: CSV, normalised as rows are);
2. ``suppress import`` of that file into a fresh SQLite ledger, then again (adds nothing);
   with ``--postgres`` also into a fresh PostgreSQL database made on that server for the
   run (and dropped after it);
3. ``validate`` of a ``--rows`` export (counts only, one process) without a list and with the
   whole list (1 row in 10 listed), A/B interleaved ``--repeat`` times: the difference is the
   suppression check's cost, also given as a share of validate's time;
4. planning the same rows into a fresh ledger (frozen while planned, as upload does) without
   rules, with the ledger's list of ``--listed`` phones, and with the list plus caps
   ``{day: 1, week: 2, month: 8}``: what each check adds to an upload's planning.

The machine is shared: compare the numbers of one run with each other, not across runs.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa

from benchmarks._common import Stage, peak_rss_mb
from pipeline.config import Config, parse_config
from pipeline.front.suppressing import DoNotCall
from pipeline.ledger import ContactRules, InputFile, canonical_body, open_ledger
from pipeline.load.dryrun import run_validate
from pipeline.load.phone_lists import read_phone_list
from pipeline.records import CallItem

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def _phone(n: int) -> str:
    # Scattered like real numbers: valid Russian mobiles 7916xxxxxxx.
    return f"7916{(n * 7_919_993) % 10_000_000:07d}"


def _load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f} {five:.2f} {fifteen:.2f}"


def _config(folder: Path, url: str, files: list[str]) -> Config:
    return parse_config(
        {
            "ledger": {"url": url},
            "columns": {"phone": "phone", "payload": {"name": "name", "debt": "debt"}},
            "suppress": {"files": files},
        },
        environ={},
    )


def _write_files(folder: Path, rows: int, listed: int) -> tuple[Path, Path]:
    export = folder / "export.csv"
    with export.open("w", encoding="utf-8") as fh:
        fh.write("phone,name,debt\n")
        fh.writelines(f"8{_phone(n)[1:]},Client {n},{n % 5000}\n" for n in range(rows))
    dnc = folder / "dnc.csv"
    with dnc.open("w", encoding="utf-8") as fh:
        fh.write("phone\n")
        # every 10th row of the export is listed, the rest of the list is other numbers
        fh.writelines(f"+{_phone(n * 10 if n < rows // 10 else rows + n)}\n" for n in range(listed))
    return export, dnc


def _import(cfg: Config, url: str, dnc: Path, listed: int) -> None:
    """``suppress import`` of ``dnc`` into the empty list of ``url``, then once more."""
    with open_ledger(url) as ledger:
        for name in ("suppress import", "suppress import again"):
            with Stage(f"{name} ({url.split(':', maxsplit=1)[0]})", listed):
                added = DoNotCall(cfg, ledger).import_file(dnc)
            print(f"  {added:,} phones added ({_load()})", flush=True)


def _import_postgres(cfg: Config, server: str, dnc: Path, listed: int) -> None:
    """:func:`_import` into a database made for it on ``server`` (dropped afterwards)."""
    name = f"jaicp_bench_{os.getpid()}"
    admin = sa.create_engine(server, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql(f"CREATE DATABASE {name}")
        _import(cfg, str(sa.make_url(server).set(database=name)), dnc, listed)
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {name}")
        admin.dispose()


def _validate_ab(cfg: Config, export: Path, listed: frozenset[str], rows: int, repeat: int) -> None:
    """validate without a list, with a list of as many phones none of which is in the file
    (every row looked up, nothing rejected: the check's own cost), and with the real list
    (1 row in 10 listed: rejected rows then skip later work, so that run can be faster)."""
    others = frozenset("7" + phone[1:].replace("916", "926", 1) for phone in listed)
    variants: list[tuple[str, frozenset[str] | None]] = [
        ("no list", None),
        (f"{len(others):,} listed, none in the file", others),
        (f"{len(listed):,} listed, 1 row in 10", listed),
    ]
    times: dict[str, list[float]] = {name: [] for name, _ in variants}
    run_validate(cfg, export, now=NOW, workers=1, suppressed=listed)  # warm: imports, caches
    for _ in range(repeat):  # interleaved: the machine's load hits all alike
        for name, suppressed in variants:
            start = time.perf_counter()
            summary = run_validate(cfg, export, now=NOW, workers=1, suppressed=suppressed)
            times[name].append(time.perf_counter() - start)
            assert summary.read == rows
    base = statistics.median(times["no list"])
    for name, _ in variants:
        got = statistics.median(times[name])
        print(
            f"validate {rows:,} rows, one process, {name}: {got:.2f} s (median of {repeat}; "
            f"{got - base:+.2f} s = {100 * (got - base) / base:+.1f} % against no list) "
            f"({_load()})",
            flush=True,
        )


def _plan(url: str, rows: int, rules: ContactRules | None, listed: list[str], name: str) -> None:
    records = [
        CallItem(row=n + 1, phone=_phone(n), payload={"name": f"Client {n}", "debt": n % 5000})
        for n in range(rows)
    ]
    with open_ledger(url, clock=lambda: NOW) as ledger:
        if listed:
            ledger.suppressions.add(listed, by="bench", source="file")
        campaign = ledger.campaigns.ensure("1000.2000.benchToken")
        run = ledger.runs.start(
            command="upload", files=[InputFile("x.csv", "ab" * 32, 1)], config_digest="c" * 64,
            campaign_id=campaign.id,
        )  # fmt: skip
        lease = ledger.leases.acquire(campaign.id, owner="bench", ttl_s=3600, run_id=run)
        state = ledger.inputs.begin(lease, name="x.csv", sha256="ab" * 32)
        chunks = [records[n : n + 100_000] for n in range(0, rows, 100_000)]
        with Stage(f"plan ({name})", rows):
            counts = ledger.planning.plan_chunks(
                lease, state.id, chunks, batch_size=500, body_for=canonical_body, rules=rules
            )
        print(
            f"  planned {counts.planned:,}, suppressed {counts.suppressed:,}, contact_cap "
            f"{counts.contact_cap:,} ({_load()})",
            flush=True,
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--listed", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--skip-plan", action="store_true", help="list and validate only")
    parser.add_argument("--postgres", metavar="URL", help="also import into PostgreSQL there")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        export, dnc = _write_files(folder, args.rows, args.listed)
        cfg = _config(folder, f"sqlite:///{folder / 'ledger.sqlite3'}", [])
        with Stage(f"read list file {dnc.name}", args.listed):
            listed = read_phone_list(dnc, cfg)
        print(f"  {len(listed):,} phones in the set ({_load()})", flush=True)
        _import(cfg, cfg.ledger.url, dnc, args.listed)
        if args.postgres:
            _import_postgres(cfg, args.postgres, dnc, args.listed)
        _validate_ab(cfg, export, listed, args.rows, args.repeat)
        if args.skip_plan:
            return
        ordered = sorted(listed)
        caps = ContactRules(caps=(("day", 1), ("week", 2), ("month", 8)), zone="Europe/Moscow")
        for name, rules, phones in (
            ("no rules", None, []),
            ("ledger list", ContactRules(), ordered),
            ("ledger list + caps", caps, ordered),
        ):
            url = f"sqlite:///{folder / (name.replace(' ', '_') + '.sqlite3')}"
            _plan(url, args.rows, rules, phones, name)
    print(f"peak RSS {peak_rss_mb():.0f} MB", flush=True)


if __name__ == "__main__":
    main()
