"""``jaicp-pipeline init EXPORT``: draft a commented config from an export file.

The work is :func:`pipeline.front.init_config`; this module parses and prints what was
chosen. Exit codes: 0 written; 6 the export cannot be read or has no column of phone
numbers (the message names the headers seen); 1 the output exists (without ``--force``) or
cannot be written.

Usage::

    jaicp-pipeline init export.csv                     # writes ./export.yaml
    jaicp-pipeline init export.xlsx --out configs/reminders.yaml --force
"""

from __future__ import annotations

from pathlib import Path

import click

from pipeline.front import init_config


@click.command("init")
@click.argument("export", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Where to write the config (default: ./EXPORT-NAME.yaml).",
)
@click.option("--force", is_flag=True, help="Overwrite the output file if it exists.")
def init(export: Path, out: Path | None, force: bool) -> None:
    """Draft a commented config for EXPORT (CSV, XLSX, XLS, ODS, .csv.gz, .zip): its phone,
    name, amount, date and time-zone columns recognised by their headers and confirmed by
    their values. Check it, then run `validate` with it."""
    draft = init_config(export, out, force=force)
    mapping, info = draft.mapping, draft.info
    where = "line" if info.format == "csv" else "sheet row"
    click.echo(
        f"wrote {draft.path} from {export} ({info.format}, header on {where} "
        f"{info.header_row}, {mapping.sampled} data row(s) looked at)"
    )
    phones = ", ".join(c.header for c in mapping.phones)
    click.echo(
        f"  phone: {phones}"
        + (" (tried in this order, cell by cell)" if len(mapping.phones) > 1 else "")
    )
    for label, choices in (("payload", mapping.payload), ("policy", mapping.policy)):
        if choices:
            shown = ", ".join(
                f"{c.field} <- {c.header}" + (f" ({c.type})" if c.type != "string" else "")
                for c in choices
            )
            click.echo(f"  {label}: {shown}")
    if mapping.unmapped:
        click.echo(f"  not mapped: {', '.join(header for header, _ in mapping.unmapped)}")
    click.echo(
        f"Check the file (each choice is commented), then: jaicp-pipeline validate --config "
        f"{draft.path} {export}"
    )
