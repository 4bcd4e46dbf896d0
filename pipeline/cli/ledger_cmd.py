"""``jaicp-pipeline ledger …``: answer audit questions from the ledger (read-only).

Usage::

    jaicp-pipeline ledger runs --config configs/reminders.yaml
    jaicp-pipeline ledger show 12 --ledger sqlite:///ledger.sqlite3
    jaicp-pipeline ledger phone +7 916 123-45-67 --config ...
    jaicp-pipeline ledger verify --config ...          # exit 7 when an invariant is broken
    jaicp-pipeline ledger export --run 12 --out rows.csv
    jaicp-pipeline ledger purge --older-than 90d --config ... --yes   # retention (writes)
    jaicp-pipeline ledger migrate --config ... --to postgresql+psycopg://app@db/jaicp
                          # copy into an empty database (--to also from JAICP_LEDGER_TARGET_URL)
    jaicp-pipeline ledger browse --config ... --port 8001   # Datasette, read-only snapshot

The work is done by :func:`pipeline.front.open_audit` and :func:`pipeline.front.migrate_ledger`
(over :mod:`pipeline.ledger.admin`); this module only parses, formats, and exits.
"""

from __future__ import annotations

import functools
import re
import sys
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any, TypeVar

import click

from pipeline import front
from pipeline.cli.ledger_source import ledger_source, require_source
from pipeline.cli.ledger_view import event_lines, page_note, runs_table, when
from pipeline.errors import ExitCode
from pipeline.front import Audit

F = TypeVar("F", bound=Callable[..., Any])
_CHECKS_WHOLE_FILE = {"verify"}  # commands that run PRAGMA integrity_check themselves


def _ledger_options(func: F) -> F:
    """Add ``--ledger URL`` / ``--config CONFIG`` and pass an open :class:`~pipeline.front.Audit`.

    A SQLite file is checked first (``PRAGMA quick_check``): no answer comes from a damaged
    file (exit 7). ``verify`` checks it whole itself.
    """
    quick_check = func.__name__ not in _CHECKS_WHOLE_FILE

    @ledger_source()
    @functools.wraps(func)
    def wrapper(ledger_url: str | None, config_path: Path | None, **kwargs: Any) -> Any:
        require_source(ledger_url, config_path)
        with front.open_audit(config_path, ledger=ledger_url, quick_check=quick_check) as audit:
            return func(audit, **kwargs)

    return wrapper  # type: ignore[return-value]


@click.group()
def ledger() -> None:
    """Audit the ledger: runs, one run, one phone's history, verify, export, browse; purge;
    migrate."""


@ledger.command()
@click.option("--limit", default=50, show_default=True, help="How many runs, newest first.")
@_ledger_options
def runs(led: Audit, limit: int) -> None:
    """List the latest runs: a table per kind of run, with that kind's columns."""
    for line in runs_table(led.runs(limit=limit)):
        click.echo(line)


@ledger.command()
@click.argument("run_id", type=int)
@click.option(
    "--limit", default=50, show_default=True, type=click.IntRange(min=0), help="Events per page."
)
@click.option(
    "--offset", default=0, show_default=True, type=click.IntRange(min=0), help="Events to skip."
)
@_ledger_options
def show(led: Audit, run_id: int, limit: int, offset: int) -> None:
    """Show one run: files, rows per state now, batches per state, and its audit events
    (every decision it recorded, oldest first, a page of --limit from --offset)."""
    report = led.show(run_id)
    run = report.run
    click.echo(f"run {run.id}: {run.command} on {report.host} (pid {report.pid})")
    click.echo(f"  started  {when(run.started_at)}   finished {when(run.finished_at)}")
    click.echo(f"  exit status {run.exit_status}   config digest {report.config_digest[:12]}")
    if run.counts:
        click.echo("  counts at finish: " + " ".join(f"{k}={v}" for k, v in run.counts.items()))
    for inp in report.inputs:
        now = " ".join(f"{k}={v}" for k, v in sorted(inp["counts"].items()))
        click.echo(f"  file {inp['name']} sha256 {inp['sha256'][:12]}… rows={inp['rows']}: {now}")
        if inp.get("phone_columns"):  # columns.phone lists several: where the others' came from
            used = ", ".join(f"{name!r} {n}" for name, n in inp["phone_columns"].items())
            click.echo(f"    phone taken from another listed column: {used}")
    batches = " ".join(f"{k}={v}" for k, v in sorted(report.batches.items())) or "none"
    click.echo(f"  batches: {batches}")
    events = led.events(run_id, limit=limit, offset=offset)
    shown = f" (#{offset + 1} to #{offset + len(events)} below)" if events else ""
    click.echo(f"  audit events: {report.events}{shown}")
    for line in event_lines(events):
        click.echo(line)
    note = page_note(len(events), offset, report.events, limit)
    if note:
        click.echo(note)


@ledger.command()
@click.argument("phone", nargs=-1, required=True)
@_ledger_options
def phone(led: Audit, phone: tuple[str, ...]) -> None:
    """Full history of one number: file, row, key, batches, send times, job id, state."""
    digits = re.sub(r"\D", "", "".join(phone))
    entries = led.phone(digits)
    if not entries:
        click.echo(
            f"no row with phone {digits} in the ledger (phones are stored as digits with "
            f"country code, e.g. 79161234567)."
        )
        return
    for e in entries:
        extra = f" job={e.job_id} sent {when(e.sent_at)}" if e.job_id else ""
        why = f" ({e.reason})" if e.reason else ""
        dup = f" duplicate of row id {e.duplicate_of}" if e.duplicate_of else ""
        col = f" column {e.phone_column!r}" if e.phone_column else ""  # not the first listed
        click.echo(
            f"row id {e.row_id}: {e.file} row {e.row_number}{col} (run {e.run_id}, "
            f"key {e.row_key}) "
            f"→ {e.state}{extra}{why}{dup}"
        )
        for b in e.batches:
            click.echo(
                f"    batch {b.batch_id} gen {b.generation} key {b.request_key} {b.state}, "
                f"{b.attempts} attempt(s), first {when(b.first_sent_at)}, "
                f"last {when(b.last_sent_at)}"
            )


@ledger.command()
@_ledger_options
@click.pass_context
def verify(ctx: click.Context, led: Audit) -> None:
    """Check the ledger's invariants; exit 7 and name each broken one."""
    problems = led.verify()
    if not problems:
        click.echo("ledger verify: all invariants hold.")
        return
    click.echo(f"ledger verify: {len(problems)} invariant(s) broken:", err=True)
    for problem in problems:
        click.echo(f"  - {problem}", err=True)
    click.echo(
        "The ledger no longer tells the truth about these ids; do not upload again before "
        "finding out what changed them (see `ledger show` / `ledger phone`).",
        err=True,
    )
    ctx.exit(ExitCode.VERIFY_FAILED)


@ledger.command()
@click.option("--run", "run_id", type=int, help="Only the rows of this run's files.")
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write here (created 0600) instead of stdout: .csv (BOM), .tsv, .xlsx, .jsonl, .json.",
)
@_ledger_options
def export(led: Audit, run_id: int | None, out: Path | None) -> None:
    """CSV of every row with its state, reason, job id and batch."""
    if out is None:
        led.export(sys.stdout, run=run_id)
        return
    n = led.export_file(out, run=run_id)  # created 0600: it holds phones
    click.echo(f"exported {n} rows to {out}", err=True)


def _duration(ctx: click.Context, param: click.Parameter, value: str) -> object:
    try:
        return front.parse_duration(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


@ledger.command()
@click.option(
    "--older-than",
    "older_than",
    required=True,
    callback=_duration,
    metavar="DURATION",
    help="Retention window, e.g. 90d, 12h, 2w: rows of runs finished longer ago are purged.",
)
@click.option("--yes", is_flag=True, help="Purge without asking.")
@_ledger_options
def purge(led: Audit, older_than: timedelta, yes: bool) -> None:
    """Drop phones, payloads and report data of finished rows past the retention window.

    Keys, digests, job ids, states, reason codes and events stay; an event records the purge.
    Running it again purges nothing new.
    """
    cutoff = led.now() - older_than
    plan = led.purge(cutoff=cutoff, dry_run=True)
    if not plan.rows:
        click.echo(f"nothing to purge: no finished row of a run finished before {when(cutoff)}.")
        return
    click.echo(
        f"{plan.rows} row(s) of {len(plan.runs)} run(s) finished before {when(cutoff)} UTC "
        f"(runs {', '.join(str(r) for r in sorted(plan.runs))}) and {plan.reports} stored "
        f"report(s) will lose their phones, payloads and report data."
    )
    if not yes:
        click.confirm("Purge them?", abort=True, err=True)
    done = led.purge(cutoff=cutoff)
    click.echo(
        f"purged {done.rows} row(s) and {done.reports} report(s); keys, job ids, states and "
        f"events are kept (see `ledger show RUN`)."
    )


@ledger.command()
@click.option(
    "--to",
    "target_url",
    required=True,
    metavar="URL",
    envvar="JAICP_LEDGER_TARGET_URL",
    show_envvar=True,
    help="SQLAlchemy URL of the new, empty database, e.g. postgresql+psycopg://app@db/jaicp. "
    "Keep a password out of the process list: use the environment variable, or PGPASSWORD / "
    "~/.pgpass with a URL without password.",
)
@ledger_source("the ledger to copy")
@click.pass_context
def migrate(
    ctx: click.Context, target_url: str, ledger_url: str | None, config_path: Path | None
) -> None:
    """Copy the ledger into an empty database (SQLite to PostgreSQL) and verify the copy.

    Every table, row, batch, key and event is copied with its ids in one transaction; counts
    and a digest of every column are compared per table, then `ledger verify` runs on the
    copy. Exit 7 when anything differs. The ledger itself is only read (its schema is
    upgraded first if it is behind, as every command does).
    """
    require_source(ledger_url, config_path, "the ledger to copy")
    quiet = bool(ctx.obj and ctx.obj.get("quiet"))
    shown: dict[str, int] = {}

    def progress(table: str, done: int, total: int) -> None:
        # Only large tables (100,000 rows or more) report, every 100,000 rows and when done.
        if quiet or total < 100_000 or (done < total and done - shown.get(table, 0) < 100_000):
            return
        shown[table] = done
        click.echo(f"  {table}: {done:,} / {total:,} rows", err=True)

    report = front.migrate_ledger(config_path, to=target_url, ledger=ledger_url, progress=progress)
    click.echo(f"ledger migrate: {report.source} -> {report.target} (schema {report.revision})")
    if report.source_upgraded_from:
        click.echo(
            f"  the source's schema was upgraded from {report.source_upgraded_from} first, as "
            f"any command does when it opens an older ledger"
        )
    click.echo(f"  {'table':<16}{'source':>12}{'target':>12}  content")
    for t in report.tables:
        same = "same" if t.matches else "DIFFERENT"
        click.echo(f"  {t.name:<16}{t.source_rows:>12,}{t.target_rows:>12,}  {same}")
    if report.mismatches:
        names = ", ".join(t.name for t in report.mismatches)
        click.echo(
            f"ledger migrate: the copy differs from the source in {names}; it was rolled back "
            f"and the target is empty again. Nothing in the source changed. Check the target "
            f"database (triggers, column types) and run the command again.",
            err=True,
        )
        ctx.exit(ExitCode.VERIFY_FAILED)
    if report.problems:
        click.echo(f"ledger verify on the target: {len(report.problems)} problem(s):", err=True)
        for problem in report.problems:
            click.echo(f"  - {problem}", err=True)
        same_in_source = {str(p) for p in report.problems} == {
            str(p) for p in report.source_problems
        }
        click.echo(
            "The source ledger has exactly the same problems: the copy is faithful, the "
            "problems came with it (see `ledger verify --ledger SOURCE`)."
            if same_in_source
            else "The source does not have these problems: do not use the target; drop it and "
            "run the command again into a new empty database.",
            err=True,
        )
        ctx.exit(ExitCode.VERIFY_FAILED)
    click.echo(
        f"verified: {report.rows:,} rows in {len(report.tables)} tables copied in "
        f"{report.seconds:.1f} s; counts, content and ledger verify agree. Point ledger.url "
        f"(or --ledger) at {report.target} now; keep the old ledger as a backup."
    )


@ledger.command()
@click.option(
    "--port",
    default=8001,
    show_default=True,
    type=click.IntRange(min=1, max=65535),
    help="Port of Datasette on 127.0.0.1 (loopback only: the ledger holds phone numbers).",
)
@ledger_source()
@click.pass_context
def browse(ctx: click.Context, port: int, ledger_url: str | None, config_path: Path | None) -> None:
    """Open the ledger in Datasette (read-only) with canned audit queries: a number's history,
    a run's decisions, what was rejected and why, sends per day, ...

    Datasette serves a snapshot taken now (immutable: nothing can change the ledger through
    it), removed when you stop it with Ctrl-C. Needs the optional extra:
    pip install 'jaicp-pipeline[browse]'. SQLite ledgers only (exit 4 otherwise).
    """
    import signal
    import subprocess

    require_source(ledger_url, config_path)
    with front.browse_ledger(config_path, ledger=ledger_url, port=port) as plan:
        click.echo(
            f"ledger snapshot: {plan.snapshot} ({plan.snapshot_size:,} bytes, read-only); open "
            f"{plan.url} (canned queries under 'Queries'); Ctrl-C stops Datasette and removes "
            f"the snapshot",
            err=True,
        )
        # A SIGTERM (service manager, test) unwinds like Ctrl-C: Datasette is stopped and the
        # snapshot removed, never left behind as an orphan.
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
        proc = subprocess.Popen(plan.argv)
        try:
            code = proc.wait()
        except KeyboardInterrupt:  # the terminal sent SIGINT to Datasette too
            code = 0
        finally:
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
    if code:
        ctx.exit(code)
