"""``jaicp-pipeline upload`` and ``reconcile``: thin wrappers of :mod:`pipeline.load`.

Usage::

    JAICP_TOKEN=... jaicp-pipeline --log-level INFO upload --config reminders.yaml export.xlsx
    JAICP_TOKEN=... jaicp-pipeline reconcile --config reminders.yaml

The token comes from ``JAICP_TOKEN`` only; the base URL from the config or ``JAICP_BASE_URL``;
the ledger from ``--ledger`` or ``ledger.url``. Exit codes: 0 complete, 3 work left for the
next run, 4 configuration/authentication, 5 another run holds the lease, 6 input file.
"""

from __future__ import annotations

import random
import time
from pathlib import Path

import click

from pipeline.api import CallsApiClient
from pipeline.config import campaign_token, load_config
from pipeline.errors import ExitCode
from pipeline.ledger import open_ledger, utc_now
from pipeline.load import TestHooks, run_upload
from pipeline.load.reconcile_run import run_reconcile

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
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
def upload(config_path: Path, ledger_url: str | None, files: tuple[Path, ...]) -> None:
    """Add every good row of FILE... to the campaign exactly once (resumes earlier runs)."""
    cfg = load_config(config_path)
    token = campaign_token()
    hooks = TestHooks.from_env()  # read once, at start
    clock = hooks.clock(utc_now)
    with open_ledger(
        ledger_url or cfg.ledger.url,
        clock=clock,
        key_safety_margin_s=cfg.upload.key_safety_margin_s,
    ) as ledger:
        summary = run_upload(
            cfg,
            list(files),
            token=token,
            ledger=ledger,
            client=lambda: CallsApiClient.from_config(cfg, token),
            clock=clock,
            sleep=time.sleep,
            rng=random.Random(),  # noqa: S311 - backoff jitter, not a secret
            progress=lambda line: click.echo(line, err=True),
            hooks=hooks,
        )
    for line in summary.lines():
        click.echo(line)
    click.get_current_context().exit(summary.exit_code)


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
    with open_ledger(
        ledger_url or cfg.ledger.url,
        clock=clock,
        key_safety_margin_s=cfg.upload.key_safety_margin_s,
    ) as ledger:
        counts, pending = run_reconcile(
            cfg,
            token=token,
            ledger=ledger,
            client=CallsApiClient.from_config(cfg, token),
            sleep=time.sleep,
            rng=random.Random(),  # noqa: S311 - backoff jitter, not a secret
        )
    click.echo(
        f"reconciled {counts.batches} batch(es): {counts.adopted} job(s) adopted, "
        f"{counts.refreshed} row(s) re-batched under new keys, {counts.suspects} suspect "
        f"duplicate job(s) noted"
    )
    if pending:
        click.echo(f"{pending} row(s) pending: run upload to send them (exit 3)")
        click.get_current_context().exit(ExitCode.PENDING)
    click.echo("nothing pending (exit 0)")
