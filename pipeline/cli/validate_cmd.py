"""``jaicp-pipeline validate``: the dry run. Reads, normalizes and checks a file; no network.

Prints the counts per outcome (rows read = accepted + rejected + duplicate) and the top
reasons; optionally writes the accepted rows, the rejects file in the input's own format, and
the exact ``addPhones`` bodies that would be sent. The work is done by
:func:`pipeline.front.validate` (the engine: :mod:`pipeline.load.dryrun`); this module parses
and prints.

Usage::

    jaicp-pipeline validate --config configs/bitrix24.yaml export.csv \\
        --accepted accepted.csv --rejects rejects.csv --emit-batches batches/
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import click

from pipeline import front
from pipeline.front import ValidateSummary, format_summary, load_config
from pipeline.front import validate as run_validate


@click.command("validate")
@click.option(
    "--config",
    "config_path",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="YAML config (column mapping, phone and call policy).",
)
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--accepted",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write accepted rows (row, phone, payload.*, policy) to this CSV.",
)
@click.option(
    "--rejects",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write rejected and duplicate rows, in the input's own format, with reasons.",
)
@click.option(
    "--emit-batches",
    "emit_batches",
    type=click.Path(file_okay=False, path_type=Path),
    help="Write the exact addPhones JSON bodies that would be sent into this folder.",
)
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=None,
    help="Processes to use (default: one per CPU, at most 4, for files of 4 MiB or more; "
    "or $JAICP_WORKERS). 1 reads the file in this process only.",
)
@click.option(
    "--summary-json",
    is_flag=True,
    help="Print the counts as one JSON object on stdout instead of text lines.",
)
def validate(  # noqa: PLR0917 - click passes every option by position
    config_path: Path,
    file: Path,
    accepted: Path | None,
    rejects: Path | None,
    emit_batches: Path | None,
    workers: int | None,
    summary_json: bool,
) -> None:
    """Check FILE against the config without sending anything (no network)."""
    config = load_config(config_path)
    started = time.monotonic()
    summary = run_validate(
        config,
        file,
        accepted=accepted,
        rejects=rejects,
        emit_batches=emit_batches,
        workers=workers,
    )
    # upload.max_reject_ratio / upload.empty_file: the exit (8, 9) upload would stop with.
    problem = front.screen_summary(config, summary)
    if summary.read == 0 and problem is None:
        click.echo(f"warning: {front.empty_warning(summary.source.path)}", err=True)
    if summary_json:
        data = _as_dict(summary, time.monotonic() - started)
        data["exit_code"] = 0 if problem is None else problem.exit_code
        data["written"] = {
            "accepted": accepted and str(accepted),
            "rejects": rejects and str(rejects),
            "batches": emit_batches and str(emit_batches),
        }
        click.echo(json.dumps(data, ensure_ascii=False))
        if problem is not None:
            raise problem
        return
    for line in format_summary(summary):
        click.echo(line)
    if accepted:
        click.echo(f"accepted rows written to {accepted}")
    if rejects:
        click.echo(f"rejected and duplicate rows written to {rejects}")
    if emit_batches:
        click.echo(
            f"{summary.batches} addPhones bodies (up to {config.upload.batch_size} phones each) "
            f"written to {emit_batches}"
        )
    if problem is not None:
        raise problem


def _as_dict(summary: ValidateSummary, duration_s: float) -> dict[str, object]:
    """``validate --summary-json``: counts (read = accepted + rejected + duplicate), reasons."""
    return {
        "command": "validate",
        "exit_code": 0,
        "file": summary.source.path,
        "format": summary.source.format,
        "rows": {
            "read": summary.read,
            "accepted": summary.accepted,
            "rejected": summary.rejected,
            "duplicate": summary.duplicate,
        },
        "reasons": dict(summary.reasons.most_common()),
        "batches": summary.batches,
        "duration_s": round(duration_s, 3),
    }
