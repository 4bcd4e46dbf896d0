"""``validate``: the dry run through the front door (no network, no ledger).

Usage::

    import pipeline
    report = pipeline.validate("configs/bitrix24.yaml", "sample_data/bitrix24_export.csv")
    report.rows_read, report.accepted, report.rejected, report.duplicates
    report.reasons.most_common(3)
"""

from __future__ import annotations

from datetime import UTC, datetime
from os import PathLike
from pathlib import Path

from pipeline.front.source import ConfigLike, as_config
from pipeline.load.dryrun import ValidateSummary, run_validate

PathArg = str | PathLike[str]


def _path(value: PathArg | None) -> Path | None:
    return None if value is None else Path(value)


def validate(
    config: ConfigLike,
    file: PathArg,
    *,
    accepted: PathArg | None = None,
    rejects: PathArg | None = None,
    emit_batches: PathArg | None = None,
    workers: int | None = None,
    now: datetime | None = None,
) -> ValidateSummary:
    """Read, normalize and check ``file`` as ``upload`` would; send nothing.

    ``accepted``: write the accepted rows (CSV); ``rejects``: the rejected and duplicate rows
    in the input's own format with reasons; ``emit_batches``: a folder for the exact
    ``addPhones`` bodies upload would send. ``workers``: processes (None: automatic, or
    ``$JAICP_WORKERS``). ``now`` dates relative values (default: the current time).
    """
    cfg = as_config(config)
    return run_validate(
        cfg,
        Path(file),
        now=now or datetime.now(UTC),
        accepted=_path(accepted),
        rejects=_path(rejects),
        batches=_path(emit_batches),
        workers=workers,
    )
