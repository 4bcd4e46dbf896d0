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

import random
from pathlib import Path

import click

from pipeline.api import CallsApiClient
from pipeline.cli.output import ProgressView, progress_view, show_summary, summary_payload
from pipeline.cli.signals import stop_on_signals
from pipeline.config import Config, campaign_token, load_config
from pipeline.errors import ExitCode, PipelineError
from pipeline.ledger import open_ledger, utc_now
from pipeline.load import TestHooks, run_upload
from pipeline.load.reconcile_run import run_reconcile
from pipeline.load.stop import RunControl, StopFlag
from pipeline.load.upload.summary import UploadSummary
from pipeline.reports.notify import post_summary

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
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.pass_context
def upload(
    ctx: click.Context,
    config_path: Path,
    ledger_url: str | None,
    new_ledger: bool,
    files: tuple[Path, ...],
) -> None:
    """Add every good row of FILE... to the campaign exactly once (resumes earlier runs).

    Progress goes to stderr (a bar on a terminal, timestamped lines otherwise; see the root
    options --progress and --quiet); the summary to stdout. With ``notify.webhook_url`` set,
    the summary is also POSTed there as JSON when the run ends, whatever its exit code.
    """
    cfg = load_config(config_path)
    options = ctx.find_root().obj or {}
    view = progress_view(
        options.get("progress", "auto"),
        quiet=options.get("quiet", False),
        log_format=options.get("log_format", "text"),
    )
    summary: UploadSummary | None = None
    control = RunControl()
    # Around the summary and the webhook too: a stop asked then changes nothing (the run is
    # recorded already) and the command still ends with the run's own code.
    with stop_on_signals(control.stop, say=view.line):
        try:
            with view:
                summary = _upload(cfg, ledger_url, files, view, control, new_ledger=new_ledger)
        except PipelineError as exc:
            payload = summary_payload(None, exit_code=exc.exit_code, error=_name(exc))
            post_summary(cfg.notify, payload)
            raise
        error = _name(summary.error) if summary.error is not None else None
        payload = summary_payload(summary, exit_code=summary.exit_code, error=error)
        post_summary(cfg.notify, payload)
        show_summary(summary, fancy=view.fancy)
    ctx.exit(summary.exit_code)


def _name(exc: BaseException) -> str:
    return type(exc).__name__


def _upload(
    cfg: Config,
    ledger_url: str | None,
    files: tuple[Path, ...],
    view: ProgressView,
    control: RunControl,
    *,
    new_ledger: bool,
) -> UploadSummary:
    token = campaign_token()
    hooks = TestHooks.from_env()  # read once, at start
    clock = hooks.clock(utc_now)
    with open_ledger(
        ledger_url or cfg.ledger.url,
        clock=clock,
        key_safety_margin_s=cfg.upload.key_safety_margin_s,
    ) as ledger:
        return run_upload(
            cfg,
            list(files),
            token=token,
            ledger=ledger,
            client=lambda: CallsApiClient.from_config(cfg, token),
            clock=clock,
            sleep=control.sleep,  # a stop cuts every backoff and poll short
            rng=random.Random(),  # noqa: S311 - backoff jitter, not a secret
            progress=view.line,
            on_progress=view.update,
            hooks=hooks,
            control=control,
            new_ledger=new_ledger,
        )


@click.command("reconcile")
@_CONFIG
@_LEDGER
def reconcile(config_path: Path, ledger_url: str | None) -> None:
    """Settle batches whose outcome is unknown and whose key has expired (getReport by phone).

    Rows found on the server are adopted; missing ones are re-batched under new keys for the
    next ``upload``.
    """
    cfg = load_config(config_path)
    token = campaign_token()
    hooks = TestHooks.from_env()
    clock = hooks.clock(utc_now)
    control = StopFlag()
    with (
        stop_on_signals(control.stop, say=lambda line: click.echo(line, err=True)),
        open_ledger(
            ledger_url or cfg.ledger.url,
            clock=clock,
            key_safety_margin_s=cfg.upload.key_safety_margin_s,
        ) as ledger,
    ):
        counts, pending = run_reconcile(
            cfg,
            token=token,
            ledger=ledger,
            client=CallsApiClient.from_config(cfg, token),
            sleep=control.sleep,
            rng=random.Random(),  # noqa: S311 - backoff jitter, not a secret
            control=control,
        )
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
