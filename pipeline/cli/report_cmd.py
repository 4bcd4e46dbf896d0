"""``jaicp-pipeline report``: one run as a self-contained HTML page (and ``upload --report``).

Usage::

    jaicp-pipeline report --config nightly.yaml --out run.html          # the latest upload run
    jaicp-pipeline report --ledger sqlite:///ledger.sqlite3 --run 12 --out run12.html
    jaicp-pipeline upload --config nightly.yaml --report run.html export.xlsx

The page opens offline in any browser (inline CSS and SVG charts, no script, nothing fetched);
it is created 0600. The work is done by :func:`pipeline.front.write_report`.
"""

from __future__ import annotations

from pathlib import Path

import click

from pipeline import front
from pipeline.cli.ledger_source import ledger_source, require_source
from pipeline.errors import PipelineError


def _run_id(ctx: click.Context, param: click.Parameter, value: str) -> int | None:
    if value == "latest":
        return None
    try:
        return int(value)
    except ValueError:
        raise click.BadParameter(f"{value!r}: give a run id (`ledger runs`) or 'latest'.") from None


@click.command("report")
@click.option(
    "--run",
    "run_id",
    default="latest",
    show_default=True,
    callback=_run_id,
    metavar="N|latest",
    help="Which run: its id, or 'latest' for the newest upload run.",
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="HTML file to write (default: run-N.html in the current folder).",
)
@ledger_source()
@click.option(
    "--limit",
    default=100,
    show_default=True,
    type=click.IntRange(min=1, max=100_000),
    help="Most items per list (rejected rows, batches, events); counts cover everything.",
)
def report(
    run_id: int | None,
    out: Path | None,
    ledger_url: str | None,
    config_path: Path | None,
    limit: int,
) -> None:
    """Write one run as an HTML page: counts, reject reasons and call results as charts,
    batches and retries, files and digests, time zones, do-not-call and contact caps."""
    require_source(ledger_url, config_path)
    page = front.write_report(config_path, out=out, ledger=ledger_url, run=run_id, limit=limit)
    click.echo(f"report of run {page.run_id} written to {page.path} ({page.size:,} bytes)")


def report_after_upload(
    config: front.Config, out: Path, *, ledger: str | None, run_id: int
) -> None:
    """``upload --report PATH``: the page of the run just recorded. A failure to write it is a
    warning: the upload's exit code is what a scheduler acts on, and ``report --run N``
    writes the page again at any time."""
    try:
        page = front.write_report(config, out=out, ledger=ledger, run=run_id)
    except PipelineError as exc:
        click.echo(f"warning: the HTML report was not written: {exc}", err=True)
        return
    click.echo(f"report of run {page.run_id} written to {page.path}", err=True)
