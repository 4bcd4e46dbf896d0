"""``upload --inbox DIR``: the command's inbox branch — progress, signals, the per-file summary.

Usage (from :mod:`pipeline.cli.upload_cmd`)::

    code = upload_inbox_command(cfg, Path("/srv/exports"), ledger_url=None, new_ledger=False,
                                summary_json=False, progress_every=10.0, options=root_options)

A signal stops the file being uploaded in order (as ``upload FILE`` does) and takes no other;
the summary lists every file with what became of it, and the exit code is the worst of the
files' (docs/inbox.md).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from pipeline import front
from pipeline.cli.logs import json_entry
from pipeline.cli.output import progress_view
from pipeline.cli.signals import stop_on_signals
from pipeline.front import Config, InboxControl


def upload_inbox_command(
    cfg: Config,
    folder: Path,
    *,
    ledger_url: str | None,
    new_ledger: bool,
    summary_json: bool,
    progress_every: float,
    options: dict[str, Any],
) -> int:
    """Run the inbox, print its summary; returns the exit code."""
    view = progress_view(
        options.get("progress", "auto"),
        quiet=options.get("quiet", False),
        log_format=options.get("log_format", "text"),
        every_s=progress_every,
    )
    control = InboxControl()
    with stop_on_signals(control.stop, say=view.line):
        with view:
            summary = front.upload_inbox(
                cfg,
                folder,
                ledger=ledger_url,
                new_ledger=new_ledger,
                control=control,
                progress=view.line,
                on_progress=view.update,
            )
        data = summary.as_dict()
        if options.get("log_format") == "json":
            message = summary.lines()[0]
            click.echo(json_entry("INFO", "pipeline.summary", message, summary=data), err=True)
        if summary_json:
            click.echo(json.dumps(data, ensure_ascii=False))
        else:
            for line in summary.lines():
                click.echo(line)
    return summary.exit_code
