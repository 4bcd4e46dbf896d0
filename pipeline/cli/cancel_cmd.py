"""``jaicp-pipeline cancel``: stop the calls of a mistaken upload (or some of them).

Usage::

    JAICP_TOKEN=... jaicp-pipeline cancel --config reminders.yaml --run 12
    JAICP_TOKEN=... jaicp-pipeline cancel --config reminders.yaml --file export.xlsx --yes
    JAICP_TOKEN=... jaicp-pipeline cancel --config reminders.yaml --phone "8 916 123-45-67"
    JAICP_TOKEN=... jaicp-pipeline cancel --config reminders.yaml --job 5665334001 --job 5665334002
    JAICP_TOKEN=... jaicp-pipeline cancel --config reminders.yaml --suppressed --yes

It shows how many jobs it will cancel and the first few phones (masked) and asks, unless
``--yes``. Exit codes: 0 done (or nothing left to cancel); 1 declined at the prompt; 3 the
Calls API failed transiently, or SIGTERM/SIGHUP stopped it (run again: unanswered requests are
resent first); 4 config/token; 130 stopped by Ctrl-C once asking was over.
"""

from __future__ import annotations

from pathlib import Path

import click

from pipeline import front
from pipeline.cli.signals import stop_on_signals
from pipeline.errors import ExitCode
from pipeline.front import CANCEL_CHUNK, StopFlag


@click.command("cancel")
@click.option(
    "--config",
    "config_path",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="YAML config (ledger.url, phone policy, api).",
)
@click.option("--ledger", "ledger_url", metavar="URL", help="Ledger URL (default: ledger.url).")
@click.option("--run", "run_id", type=int, help="Cancel the jobs of this upload run's files.")
@click.option(
    "--file",
    "file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Cancel the jobs of this uploaded file (matched by content, or by name if it is gone).",
)
@click.option("--phone", "phones", multiple=True, help="Cancel the jobs of this phone (repeat).")
@click.option("--job", "job_ids", multiple=True, help="Cancel this call job id (repeat).")
@click.option(
    "--suppressed",
    is_flag=True,
    help="Cancel the jobs of phones on the ledger's do-not-call list (opted out after sending).",
)
@click.option("--yes", is_flag=True, help="Do not ask for confirmation (cron, scripts).")
@click.option(
    "--chunk-size",
    type=click.IntRange(1, 1000),
    default=CANCEL_CHUNK,
    show_default=True,
    help="Job ids per callJob/cancel request.",
)
def cancel(
    *,
    config_path: Path,
    ledger_url: str | None,
    run_id: int | None,
    file: Path | None,
    phones: tuple[str, ...],
    job_ids: tuple[str, ...],
    suppressed: bool,
    yes: bool,
    chunk_size: int,
) -> None:
    """Cancel call jobs the ledger knows, after showing what and asking."""
    chosen = [run_id is not None, file is not None, bool(phones), bool(job_ids), suppressed]
    if sum(chosen) != 1:
        raise click.UsageError(
            "choose exactly one of --run, --file, --phone, --job or --suppressed"
        )
    with front.open_cancel(
        config_path,
        run=run_id,
        file=file,
        phones=list(phones) or None,
        jobs=list(job_ids) or None,
        ledger=ledger_url,
        suppressed=suppressed,
    ) as job:
        plan = job.plan
        if plan.total == 0:
            click.echo(
                "nothing left to cancel: every matching job was already cancelled, "
                "had finished, or was never sent"
            )
            return
        shown = ", ".join(plan.preview())
        more = f" and {len(plan.targets) - 5} more" if len(plan.targets) > 5 else ""
        click.echo(f"will cancel {plan.total} call job(s): {shown}{more}")
        if not yes and not click.confirm("cancel these calls?", default=False):
            click.echo("nothing was cancelled")
            click.get_current_context().exit(ExitCode.FAILED)
        control = StopFlag()
        # Only now: a Ctrl-C at the question above ends the command at once, as usual.
        with stop_on_signals(control.stop, say=lambda line: click.echo(line, err=True)):
            summary = job.run(
                chunk_size=chunk_size,
                progress=lambda line: click.echo(line, err=True),
                control=control,
            )
    for line in summary.lines():
        click.echo(line)
