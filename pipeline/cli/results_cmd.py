"""``jaicp-pipeline results``: call outcomes of the ledger's rows, back to the CRM.

Usage::

    JAICP_TOKEN=... jaicp-pipeline results --config reminders.yaml --run 12 --out results.xlsx
    JAICP_TOKEN=... jaicp-pipeline results --config reminders.yaml --since 2026-11-01 \\
        --attempts --source export.xlsx --out results.csv

Transient API failures are retried with the ``upload:`` retry settings (attempts, backoff,
``Retry-After`` cap, run budget). Exit codes: 0 written; 3 the Calls API still failed after
those retries, or SIGTERM/SIGHUP stopped it (outcomes fetched so far are kept in the ledger;
run again); 2 an --out suffix that names no format; 4 configuration or token; 130 stopped by
Ctrl-C; 1 other failures.
"""

from __future__ import annotations

from pathlib import Path

import click

from pipeline import front
from pipeline.cli.signals import stop_on_signals
from pipeline.front import REPORT_CHUNK, StopFlag


@click.command("results")
@click.option(
    "--config",
    "config_path",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="YAML config (ledger.url, reports.timezone, api).",
)
@click.option("--ledger", "ledger_url", metavar="URL", help="Ledger URL (default: ledger.url).")
@click.option("--run", "run_id", type=int, help="Only the rows of this upload run's files.")
@click.option("--since", metavar="DATE", help="Only rows planned by runs started since DATE.")
@click.option(
    "--attempts", is_flag=True, help="Also fetch callAttempt/getReport (last attempt's result)."
)
@click.option("--sent-only", is_flag=True, help="Leave out rejected, duplicate and pending rows.")
@click.option(
    "--source",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The uploaded file, to copy its original columns (used when its sha256 matches).",
)
@click.option(
    "--chunk-size",
    type=click.IntRange(1, 1000),
    default=REPORT_CHUNK,
    show_default=True,
    help="Call job ids per report request.",
)
@click.option(
    "--out",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="results.xlsx, .csv (BOM; the source's delimiter or reports.delimiter), .tsv, "
    ".jsonl or .json (one JSON array); other suffixes are refused (exit 2).",
)
def results(
    *,
    config_path: Path,
    ledger_url: str | None,
    run_id: int | None,
    since: str | None,
    attempts: bool,
    sent_only: bool,
    source: Path | None,
    chunk_size: int,
    out: Path,
) -> None:
    """Fetch the call outcomes of the ledger's rows and write one line per source row."""
    if run_id is not None and since is not None:
        raise click.UsageError("give --run or --since, not both")
    control = StopFlag()
    with stop_on_signals(control.stop, say=lambda line: click.echo(line, err=True)):
        summary = front.results(
            config_path,
            out,
            run=run_id,
            since=since,
            attempts=attempts,
            sent_only=sent_only,
            source=source,
            chunk_size=chunk_size,
            ledger=ledger_url,
            progress=lambda line: click.echo(line, err=True),
            control=control,
        )
    for line in summary.lines():
        click.echo(line)
