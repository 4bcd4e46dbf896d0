"""``jaicp-pipeline upload`` and ``reconcile``: thin wrappers of :mod:`pipeline.load`.

Usage::

    JAICP_TOKEN=... jaicp-pipeline --log-level INFO upload --config reminders.yaml export.xlsx
    JAICP_TOKEN=... jaicp-pipeline reconcile --config reminders.yaml

The token comes from ``JAICP_TOKEN`` only; the base URL from the config or ``JAICP_BASE_URL``;
the ledger from ``--ledger`` or ``ledger.url``. Exit codes: 0 complete, 3 work left for the
next run (also: stopped by SIGTERM or SIGHUP), 4 configuration/authentication, 5 another run
holds the lease, 6 input file, 130 stopped by Ctrl-C. A signal stops either command in order
(:mod:`pipeline.cli.signals`); a second one ends it at once.
"""

from __future__ import annotations

from pathlib import Path

import click

from pipeline import front
from pipeline.cli.inbox_view import upload_inbox_command
from pipeline.cli.output import progress_view, show_summary
from pipeline.cli.signals import stop_on_signals
from pipeline.errors import ExitCode, PipelineError
from pipeline.front import RunControl, StopFlag, UploadSummary, load_config

_CONFIG = click.option(
    "--config",
    "config_path",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="YAML config (columns, policy, upload settings, ledger.url).",
)
_LEDGER = click.option(
    "--ledger",
    "ledger_url",
    metavar="URL",
    help="SQLAlchemy URL of the ledger (default: ledger.url).",
)


@click.command("upload")
@_CONFIG
@_LEDGER
@click.option(
    "--new-ledger",
    is_flag=True,
    help="Send even though this ledger has never sent to the campaign and the campaign already "
    "holds numbers (they came from elsewhere; see README 'What to do when…').",
)
@click.option(
    "--summary-json",
    is_flag=True,
    help="Print the summary as one JSON object on stdout (counts split this run / earlier "
    "runs, exit code, files with sha256, duration, run id) instead of text lines.",
)
@click.option(
    "--progress-every",
    type=click.FloatRange(min=0.1),
    default=10.0,
    show_default=True,
    metavar="SECONDS",
    help="Without a progress bar (cron, log files): print a progress line at least this "
    "often while rows go out (and at every 10 %).",
)
@click.option(
    "--inbox",
    type=click.Path(file_okay=False, path_type=Path),
    metavar="DIR",
    help="Instead of FILE...: every new export in DIR, oldest first, one run each; moved to "
    "DIR/done/ or DIR/failed/ (with a note) once the ledger recorded it (docs/inbox.md).",
)
@click.option(
    "--report",
    "report_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also write the run's HTML report there (as `jaicp-pipeline report --run N`).",
)
@click.argument("files", nargs=-1, type=click.Path(dir_okay=False, path_type=Path))
@click.pass_context
def upload(  # noqa: PLR0917 - click passes every option by position
    ctx: click.Context,
    config_path: Path,
    ledger_url: str | None,
    new_ledger: bool,
    summary_json: bool,
    progress_every: float,
    inbox: Path | None,
    report_path: Path | None,
    files: tuple[Path, ...],
) -> None:
    """Add every good row of FILE... to the campaign exactly once (resumes earlier runs).

    Progress goes to stderr (a bar on a terminal, timestamped lines otherwise; see the root
    options --progress and --quiet); the summary to stdout. With ``notify.webhook_url`` set,
    the summary is also POSTed there as JSON when the run ends, whatever its exit code.
    """
    if bool(files) == (inbox is not None):
        raise click.UsageError("give the export FILE(s) or --inbox DIR, one of the two")
    if inbox is not None and report_path is not None:
        # one page is one run, and an inbox makes a run per file
        raise click.UsageError(
            "--report writes one run's page; with --inbox, write each file's page afterwards "
            "with `jaicp-pipeline report --run N`"
        )
    cfg = load_config(config_path)
    options = ctx.find_root().obj or {}
    if inbox is not None:
        ctx.exit(
            upload_inbox_command(
                cfg,
                inbox,
                ledger_url=ledger_url,
                new_ledger=new_ledger,
                summary_json=summary_json,
                progress_every=progress_every,
                options=options,
            )
        )
    view = progress_view(
        options.get("progress", "auto"),
        quiet=options.get("quiet", False),
        log_format=options.get("log_format", "text"),
        every_s=progress_every,
    )
    summary: UploadSummary | None = None
    control = RunControl()
    # Around the summary and the webhook too: a stop asked then changes nothing (the run is
    # recorded already) and the command still ends with the run's own code.
    with stop_on_signals(control.stop, say=view.line):
        try:
            with view:
                summary = front.upload(
                    cfg,
                    files,
                    ledger=ledger_url,
                    new_ledger=new_ledger,
                    control=control,  # its sleep: a stop cuts every backoff and poll short
                    progress=view.line,
                    on_progress=view.update,
                    notify=False,  # below, once the progress view is closed
                )
        except PipelineError as exc:
            front.notify_upload(cfg, None, error=exc)
            raise
        front.notify_upload(cfg, summary)
        show_summary(
            summary,
            fancy=view.fancy,
            as_json=summary_json,
            log_json=options.get("log_format") == "json",
        )
        if report_path is not None:
            from pipeline.cli.report_cmd import report_after_upload

            report_after_upload(cfg, report_path, ledger=ledger_url, run_id=summary.run_id)
    ctx.exit(summary.exit_code)


@click.command("reconcile")
@_CONFIG
@_LEDGER
def reconcile(config_path: Path, ledger_url: str | None) -> None:
    """Settle batches whose outcome is unknown and whose key has expired (getReport by phone).

    Rows found on the server are adopted; missing ones are re-batched under new keys for the
    next ``upload``.
    """
    cfg = load_config(config_path)
    control = StopFlag()
    with stop_on_signals(control.stop, say=lambda line: click.echo(line, err=True)):
        report = front.reconcile(cfg, ledger=ledger_url, control=control)
    counts, pending = report.counts, report.pending
    click.echo(
        f"reconciled {counts.batches} batch(es): {counts.adopted} job(s) adopted, "
        f"{counts.refreshed} row(s) re-batched under new keys, {counts.suspects} suspect "
        f"duplicate job(s) noted"
    )
    if control.stop_error is not None:
        click.echo(f"{pending} row(s) pending; {control.stop_error}")
        click.get_current_context().exit(control.stop_error.exit_code)
    if pending:
        click.echo(f"{pending} row(s) pending: run upload to send them (exit 3)")
        click.get_current_context().exit(ExitCode.PENDING)
    click.echo("nothing pending (exit 0)")
